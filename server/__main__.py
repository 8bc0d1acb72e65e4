"""Start the service: ``python -m server --host 127.0.0.1 --port 8000``.

SIGTERM and SIGINT start a graceful shutdown: new submissions get 503, the
running job has ``shutdown_grace_s`` to finish, then the child is stopped and the
process exits. A job still running then is stored as pending and runs first when
the service starts again. A second signal skips the rest of the grace period.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import logging.config
import signal
import sys

from aiohttp import web

from server.app import SERVER_OPTIONS, create_app
from server.auth import load_keys
from server.config import Settings, load_settings
from server.keys import SCHEDULER
from server.logs import log_event, logging_config

logger = logging.getLogger("server")

# Open HTTP requests get this long to finish once the listener has closed.
REQUEST_DRAIN_S = 5.0


async def serve(settings: Settings, keys: list[str]) -> None:
    """Run the service until SIGTERM or SIGINT, then shut it down gracefully."""
    app = create_app(settings, keys)
    runner = web.AppRunner(
        app, access_log=logging.getLogger("aiohttp.access"),
        shutdown_timeout=REQUEST_DRAIN_S, **SERVER_OPTIONS,
    )  # fmt: skip
    await runner.setup()
    try:
        site = web.TCPSite(
            runner, settings.host, settings.port, shutdown_timeout=REQUEST_DRAIN_S
        )
        try:
            await site.start()
        except OSError as exc:
            message = listen_error(settings.host, settings.port, exc)
            raise RuntimeError(message) from None
        log_event(logger, "service.listening", url=f"http://{settings.host}:{settings.port}")
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


def listen_error(host: str, port: int, exc: OSError) -> str:
    """Return the message for a failure to listen on ``host:port``, with the fix."""
    where = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where}; choose another --port or stop the other server"
    if exc.errno == errno.EACCES:
        return (
            f"{where}; choose a --port above 1023, or give the service the right "
            "to bind low ports (CAP_NET_BIND_SERVICE)"
        )
    # A name that does not resolve (socket.gaierror) or an address that no
    # interface of this machine has (EADDRNOTAVAIL), among others.
    return (
        f"{where}; host {host!r} is not an address of this machine or a host name "
        "that resolves to one. Pass a valid local address with --host or "
        "BOOKNLP_JOBS_HOST, such as 127.0.0.1, or 0.0.0.0 for all interfaces"
    )


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
    try:
        asyncio.run(serve(settings, keys))
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
    log_event(logger, "service.stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
