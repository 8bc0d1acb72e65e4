"""Send a finished job's result file, and the errors for a file that is gone.

A result file stays in the state folder until its job expires. Something
outside the service may still delete it or put something else in its place,
and each such case gets its own JSON error and log line.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import stat
from typing import BinaryIO

from aiohttp import web

from server.errors import ApiError
from server.jobs import Job
from server.keys import SETTINGS
from server.logs import log_event

logger = logging.getLogger(__name__)

RESULT_BLOCK_BYTES = 256 * 1024


async def stream_result(
    request: web.Request,
    job: Job,
    path: str | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Send a result file (the JSON result by default) in blocks.

    Blocks keep a large result out of memory. Range and conditional headers are
    ignored: a result is always sent whole, with 200, which keeps every error a
    JSON body.
    """
    path = path or job.result_path
    loop = asyncio.get_running_loop()
    try:
        handle = await loop.run_in_executor(None, _open_regular_file, path)
    except FileNotFoundError:
        raise result_missing(request, job, path) from None
    except OSError as exc:
        raise _result_unreadable(job, path, exc) from None
    with handle:
        response = web.StreamResponse(
            headers={"Content-Type": content_type, **(headers or {})}
        )
        response.content_length = os.fstat(handle.fileno()).st_size
        try:
            # prepare writes the headers, so it fails too when the client has
            # gone, as POST /v1/analyze clients do during a long wait.
            await response.prepare(request)
            if request.method == "HEAD":
                # A stream response sends what is written to it, even for HEAD.
                await response.write_eof()
                return response
            read = handle.read
            while block := await loop.run_in_executor(None, read, RESULT_BLOCK_BYTES):
                await response.write(block)
            await response.write_eof()
        except ConnectionError as exc:
            # The client went away mid-download: nothing can reach it any more.
            log_event(
                logger, "result.download_aborted", job_id=job.job_id,
                remote=request.remote, error=exc,
            )  # fmt: skip
    return response


def _open_regular_file(path: str) -> BinaryIO:
    """Open ``path`` for reading, without blocking on a FIFO or a device.

    Raises:
        OSError: the file cannot be opened, or it is not a regular file
            (IsADirectoryError for a folder).
    """
    # O_NONBLOCK makes opening a FIFO return at once instead of waiting for a
    # writer. It has no effect on reading a regular file.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "Not a regular file", path)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _result_unreadable(job: Job, path: str, exc: OSError) -> ApiError:
    """Log and return the error for a finished job's file that cannot be read."""
    reason = exc.strerror or str(exc)
    log_event(
        logger, "job.result_unreadable", logging.ERROR, job_id=job.job_id,
        path=path, error=reason,
    )  # fmt: skip
    # 503, not 500: the service works, but this file needs its operator.
    return ApiError(
        503, "result_unreadable",
        f"the result file of job {job.job_id} in the server's state folder "
        f"cannot be read ({path}: {reason}). The service's operator must make it "
        "a regular file that the service's user can read, for example with "
        "chown or chmod, or submit the book again",
    )  # fmt: skip


def result_missing(request: web.Request, job: Job, path: str) -> ApiError:
    """Log and return the error for a finished job's file missing within its TTL.

    The service deletes result files only when their job expires, and an
    expired job is not found at all. So the file was deleted or moved by
    something else, by hand or by another program on the state folder.
    """
    log_event(
        logger, "job.result_missing", logging.ERROR, job_id=job.job_id, path=path
    )  # fmt: skip
    ttl_s = request.app[SETTINGS].result_ttl_s
    return ApiError(
        404, "result_missing",
        f"the result file of job {job.job_id} is missing from the server's state "
        f"folder, although the job finished less than {ttl_s:.0f} s ago and its "
        "result should still be kept, so it was deleted or moved outside the "
        "service. Submit the book again",
    )  # fmt: skip
