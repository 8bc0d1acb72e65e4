"""Start the service: ``python -m server --host 127.0.0.1 --port 8000``."""

from __future__ import annotations

import logging
import logging.config
import sys

from aiohttp import web

from server.app import create_app
from server.config import load_settings
from server.logs import log_event, logging_config

logger = logging.getLogger("server")


def main() -> int:
    try:
        settings = load_settings(sys.argv[1:])
    except ValueError as exc:
        print(f"booknlp-jobs: {exc}", file=sys.stderr)
        return 2
    logging.config.dictConfig(logging_config(settings.log_level))
    log_event(
        logger, "service.starting", host=settings.host, port=settings.port,
        engine=settings.engine, max_queue=settings.max_queue,
        state_dir=settings.state_dir or "(temporary)",
    )  # fmt: skip
    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=logging.getLogger("aiohttp.access"),
        )
    except OSError as exc:
        # Typically the port is taken; say so without a traceback.
        logger.error(
            "cannot listen on %s:%d: %s; choose another --port or stop the other "
            "server", settings.host, settings.port, exc.strerror or exc,
        )  # fmt: skip
        return 1
    log_event(logger, "service.stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
