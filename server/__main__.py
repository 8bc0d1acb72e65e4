"""Start the service: ``python -m server --host 127.0.0.1 --port 8000``.

SIGTERM and SIGINT start a graceful shutdown: new submissions get 503, the
running job has ``shutdown_grace_s`` to finish, then the child is stopped and the
process exits. A job still running then is stored as pending and runs first when
the service starts again. A second signal skips the rest of the grace period.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import signal
import socket
import sys

from aiohttp import web

from server.app import SERVER_OPTIONS, create_app
from server.auth import load_keys
from server.config import Settings, load_settings
from server.keys import SCHEDULER
from server.listen import bind_listeners, listen_error, service_url
from server.logs import log_event, logging_config
from server.state_lock import (
    StateDirInUse,
    StateDirNotWritable,
    not_writable_message,
)

logger = logging.getLogger("server")

# Open HTTP requests get this long to finish once the listener has closed.
REQUEST_DRAIN_S = 5.0


async def serve(
    settings: Settings, keys: list[str], sockets: list[socket.socket]
) -> None:
    """Serve on the bound ``sockets`` until SIGTERM or SIGINT, then shut down.

    The shutdown is graceful: see the module docstring.
    """
    app = create_app(settings, keys)
    runner = web.AppRunner(
        app, access_log=logging.getLogger("aiohttp.access"),
        shutdown_timeout=REQUEST_DRAIN_S, **SERVER_OPTIONS,
    )  # fmt: skip
    await runner.setup()
    try:
        for sock in sockets:
            site = web.SockSite(runner, sock, shutdown_timeout=REQUEST_DRAIN_S)
            await site.start()
        url = service_url(settings.host, settings.port)
        log_event(logger, "service.listening", url=url)
        signals = _signal_queue()
        received = await signals.get()
        log_event(logger, "service.stopping", signal=received.name,
                  grace_s=settings.shutdown_grace_s)  # fmt: skip
        scheduler = app[SCHEDULER]
        drain = asyncio.create_task(scheduler.drain(settings.shutdown_grace_s))
        second = asyncio.create_task(signals.get())
        await asyncio.wait({drain, second}, return_when=asyncio.FIRST_COMPLETED)
        drain.cancel()
        second.cancel()
    finally:
        await runner.cleanup()


def _signal_queue() -> asyncio.Queue[signal.Signals]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[signal.Signals] = asyncio.Queue()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, queue.put_nowait, sig)
    return queue


def main() -> int:
    try:
        settings = load_settings(sys.argv[1:])
        # Read before logging is set up, because the log filter hides the keys.
        keys = load_keys(settings.api_keys, settings.api_keys_file)
    except ValueError as exc:
        print(f"booknlp-jobs: cannot start: {exc}", file=sys.stderr)
        return 2
    logging.config.dictConfig(logging_config(settings.log_level, keys))
    log_event(
        logger, "service.starting", host=settings.host, port=settings.port,
        engine=settings.engine, max_queue=settings.max_queue,
        state_dir=settings.state_dir,
    )  # fmt: skip
    # Bound before the app starts, so that a port in use stops the start before
    # the runner child loads its model.
    try:
        sockets = bind_listeners(settings.host, settings.port)
    except OSError as exc:
        message = listen_error(settings.host, settings.port, exc)
        logger.error("cannot start: %s", message)
        return 2
    try:
        asyncio.run(serve(settings, keys, sockets))
    except (StateDirInUse, StateDirNotWritable) as exc:
        logger.error("cannot start: %s", exc)
        return 2
    except PermissionError as exc:
        # Raised while the state folder's files are created, such as the
        # database of a folder that another user (often root) created.
        message = not_writable_message(settings.state_dir, exc)
        logger.error("cannot start: %s", message)
        return 2
    except OSError as exc:
        # Raised while the state folder and its database are opened.
        logger.error(
            "cannot use the state folder %s: %s; choose another --state-dir",
            settings.state_dir, exc,
        )  # fmt: skip
        return 1
    except (RuntimeError, ValueError) as exc:
        logger.error("cannot start: %s", exc)
        return 1
    finally:
        for sock in sockets:
            sock.close()
    log_event(logger, "service.stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
