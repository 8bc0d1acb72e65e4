"""Build the aiohttp application and tie the scheduler to its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from typing import AsyncIterator

from aiohttp import web

from server.auth import KeyChecker, load_keys, make_auth_middleware
from server.config import MEMORY_STATE, Settings
from server.errors import json_errors
from server.jobs import JobTable
from server.keys import SCHEDULER, SETTINGS, STARTED_AT, UPLOADS
from server.routes import routes
from server.scheduler import JobScheduler
from server.state_lock import lock_state_dir
from server.store import JobStore, SQLiteJobStore


# Options for aiohttp's request handler. Request bodies are decoded by
# server.content_encoding, which rejects a corrupt one with a JSON error. A
# handler runs to its end when its client disconnects: aiohttp's default, set
# here so that the tests run the handlers the same way.
SERVER_OPTIONS = {"auto_decompress": False, "handler_cancellation": False}


def create_app(settings: Settings, keys: list[str] | None = None) -> web.Application:
    """Return the application; the runner child starts when the app starts.

    ``keys`` are the API keys, as ``load_keys`` returns them; with None they
    are read from the settings here.

    Raises:
        ValueError: the API keys cannot be read; see ``load_keys``.
    """
    if keys is None:
        keys = load_keys(settings.api_keys, settings.api_keys_file)
    checker = KeyChecker(keys, settings.protect_status)
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[json_errors, make_auth_middleware(checker)],
    )
    app[SETTINGS] = settings
    app[STARTED_AT] = time.time()
    app[UPLOADS] = asyncio.Semaphore(settings.max_concurrent_uploads)
    app.add_routes(routes)
    app.cleanup_ctx.append(_scheduler_lifetime)
    return app


def open_job_table(settings: Settings, stack: contextlib.ExitStack) -> JobTable:
    """Open the durable job table in the state folder, or a memory-only one.

    The state folder is locked for as long as ``stack`` is open.

    Raises:
        StateDirInUse: another server uses the state folder.
    """
    if settings.state_dir == MEMORY_STATE:
        spool_dir = tempfile.mkdtemp(prefix="booknlp-jobs-")
        stack.callback(shutil.rmtree, spool_dir, ignore_errors=True)
        return JobTable(spool_dir, settings.result_ttl_s, JobStore())
    os.makedirs(settings.state_dir, exist_ok=True)
    # Locked before anything in the folder is read or deleted.
    lock_fd = lock_state_dir(settings.state_dir)
    stack.callback(os.close, lock_fd)
    store = SQLiteJobStore(settings.state_dir)
    stack.callback(store.close)
    return JobTable(settings.state_dir, settings.result_ttl_s, store)


async def _scheduler_lifetime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    with contextlib.ExitStack() as stack:
        scheduler = JobScheduler(settings, open_job_table(settings, stack))
        app[SCHEDULER] = scheduler
        await scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
