"""HTTP handlers for the job API under ``/v1``."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from runner.protocol import ENGINES, native_archive_path
from server.auth import OWNER_KEY
from server.config import Settings
from server.content_encoding import content_codings, decode_body
from server.errors import ApiError, json_response
from server.headers import check_submission_headers
from server.jobs import Job, JobStatus, is_job_id, new_job_id
from server.keys import SCHEDULER, SETTINGS, STARTED_AT, UPLOADS
from server.logs import log_event
from server.results import result_missing, stream_result
from server.scheduler import JobScheduler, QueueFull, engine_unavailable_message
from server.submission import Submission, check_analysed_text, count_tokens, parse_body

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()

# Retry-After sent while the service shuts down, for the restart to finish.
SHUTDOWN_RETRY_AFTER_S = 30
UPLOAD_RETRY_AFTER_S = 5
# Retry-After sent when the text could not be written to the state folder.
STORAGE_RETRY_AFTER_S = 30


def _scheduler(request: web.Request) -> JobScheduler:
    return request.app[SCHEDULER]


async def _read_submission(request: web.Request) -> tuple[Submission, int]:
    """Parse the request into a submission and count its tokens off the loop.

    The caller runs ``check_submission_headers`` first, which rejects a
    declared Content-Length over the limit before the body is read here.
    """
    settings = request.app[SETTINGS]
    body = await _read_body(request)
    loop = asyncio.get_running_loop()
    encoding = request.headers.get("Content-Encoding", "")
    if content_codings(encoding):
        body = await loop.run_in_executor(
            None, decode_body, body, encoding, settings.max_body_bytes
        )
    submission = parse_body(
        body, request.content_type, request.query, ENGINES[settings.engine],
        request.charset,
    )  # fmt: skip
    await loop.run_in_executor(None, check_analysed_text, submission.text)
    tokens = await loop.run_in_executor(None, count_tokens, submission.text)
    return submission, tokens


async def _read_body(request: web.Request) -> bytes:
    """Read the request body within the upload timeout and the upload slots."""
    settings = request.app[SETTINGS]
    uploads = request.app[UPLOADS]
    if uploads.locked():
        raise ApiError(
            503, "too_many_uploads",
            f"{settings.max_concurrent_uploads} uploads are already in progress; "
            f"retry in {UPLOAD_RETRY_AFTER_S} s",
            headers={"Retry-After": str(UPLOAD_RETRY_AFTER_S)},
        )  # fmt: skip
    async with uploads:
        try:
            return await asyncio.wait_for(request.read(), settings.upload_timeout_s)
        except asyncio.TimeoutError:
            log_event(logger, "upload.timed_out", remote=request.remote)
            raise ApiError(
                408, "upload_timed_out",
                f"the request body did not arrive within {settings.upload_timeout_s:g}"
                " s; check the connection, or compress the text with gzip",
            ) from None  # fmt: skip
        except RequestPayloadError as exc:
            encoding = request.headers.get("Content-Encoding", "none")
            raise ApiError(
                400, "invalid_body",
                f"request body could not be read with Content-Encoding {encoding!r} "
                f"({exc}); send the text uncompressed or compress it correctly",
            ) from None  # fmt: skip
        except ConnectionError as exc:
            # The client closed the connection mid-upload, so no response can reach it.
            log_event(logger, "upload.aborted", remote=request.remote, error=exc)
            raise ApiError(
                400, "upload_incomplete", "the connection closed during the upload"
            ) from None


def _check_token_limit(tokens: int, limit: int, hint: str) -> None:
    if tokens > limit:
        raise ApiError(
            413, "too_many_tokens",
            f"document has about {tokens} tokens; the limit is {limit}. {hint}",
            tokens=tokens, limit=limit,
        )  # fmt: skip


def _check_queue_space(scheduler: JobScheduler) -> None:
    if not scheduler.accepting:
        raise ApiError(
            503, "shutting_down",
            "the service is shutting down and takes no new jobs; retry once it "
            "has restarted",
            headers={"Retry-After": str(SHUTDOWN_RETRY_AFTER_S)},
        )  # fmt: skip
    supervisor = scheduler.supervisor
    reason = supervisor.unavailable_reason
    if reason is not None:
        next_start_s = supervisor.seconds_until_start()
        # The load time of a child is unknown, so while one loads, the delay
        # before its start is the estimate.
        wait_s = supervisor.restart_delay_s() if next_start_s is None else next_start_s
        raise ApiError(
            503, "engine_unavailable",
            engine_unavailable_message(reason, next_start_s),
            headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
        )  # fmt: skip
    waiting = len(scheduler.pending)
    limit = scheduler.settings.max_queue
    if waiting >= limit:
        _raise_queue_full(QueueFull(waiting, limit, scheduler.retry_after_s()))


def _raise_queue_full(full: QueueFull) -> None:
    raise ApiError(
        503, "queue_full",
        f"the queue is full: {full.waiting} jobs are already waiting, and at most "
        f"{full.limit} may wait (max_queue); retry after {full.retry_after_s} s",
        headers={"Retry-After": str(full.retry_after_s)},
        retry_after_s=full.retry_after_s, waiting=full.waiting, limit=full.limit,
    )  # fmt: skip


async def _enqueue(request: web.Request, submission: Submission, tokens: int) -> Job:
    scheduler = _scheduler(request)
    table = scheduler.table
    job_id = new_job_id()
    job = Job(
        job_id=job_id,
        text_path=table.text_path(job_id),
        result_path=table.result_path(job_id),
        tokens_estimate=tokens,
        chars=len(submission.text),
        components=submission.components,
        model=submission.model,
        book_id=submission.book_id,
        owner=request[OWNER_KEY],
    )
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, _write_text, job.text_path, submission.text)
    except OSError as exc:
        log_event(
            logger, "job.store_failed", logging.ERROR, job_id=job_id,
            path=job.text_path, error=exc,
        )  # fmt: skip
        raise ApiError(
            503, "storage_error",
            f"the server could not store the text ({exc.strerror or exc}); retry "
            f"in {STORAGE_RETRY_AFTER_S} s, and tell the service's operator if "
            "this persists",
            headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)},
        ) from None  # fmt: skip
    try:
        scheduler.submit(job)
    except QueueFull as full:
        _remove_text(job.text_path)
        _raise_queue_full(full)
    except BaseException:
        _remove_text(job.text_path)
        raise
    return job


def _write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, and remove the file if that fails."""
    try:
        # newline="" keeps CR and CRLF exactly as submitted.
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except BaseException:
        _remove_text(path)
        raise


def _remove_text(path: str) -> None:
    """Remove a text file that no job owns. A failure is logged, not raised."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log_event(logger, "text.remove_failed", logging.ERROR, path=path, error=exc)


def _find_job(request: web.Request) -> Job:
    job_id = request.match_info["job_id"]
    if not is_job_id(job_id):
        raise ApiError(
            400, "invalid_job_id",
            f"{job_id[:80]!r} is not a job id; ids are 32 lower-case hexadecimal "
            "digits, exactly as returned by POST /v1/jobs",
        )  # fmt: skip
    job = _scheduler(request).table.get(job_id)
    # Another key's job is reported exactly like a job that does not exist.
    if job is None or job.owner != request[OWNER_KEY]:
        raise ApiError(
            404, "job_not_found",
            f"job {job_id} does not exist or has expired; finished jobs are kept "
            f"for {request.app[SETTINGS].result_ttl_s:.0f} s",
        )  # fmt: skip
    return job


def _status_body(request: web.Request, job: Job) -> dict[str, Any]:
    return job.to_status(_scheduler(request).queue_position(job.job_id))


@routes.post("/v1/jobs")
async def submit_job(request: web.Request) -> web.Response:
    scheduler = _scheduler(request)
    settings = request.app[SETTINGS]
    # A request that its headers already condemn gets its 4xx before a 503
    # that would invite a retry.
    check_submission_headers(
        request, settings.max_body_bytes, ENGINES[settings.engine]
    )
    _check_queue_space(scheduler)
    submission, tokens = await _read_submission(request)
    _check_token_limit(
        tokens, settings.max_tokens,
        "Split the book into parts and submit each part as its own job.",
    )  # fmt: skip
    job = await _enqueue(request, submission, tokens)
    location = f"/v1/jobs/{job.job_id}"
    body = _status_body(request, job)
    return json_response(body, 202, {"Location": location})


@routes.get("/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    unknown = sorted(set(request.query) - {"status"})
    if unknown:
        raise ApiError(
            400, "invalid_option",
            f"unknown query parameter {unknown[0]!r} for GET /v1/jobs; the only "
            "one is 'status'",
        )  # fmt: skip
    if len(request.query.getall("status", [])) > 1:
        raise ApiError(
            400, "invalid_option",
            "query parameter 'status' is given more than once; give it once",
        )  # fmt: skip
    wanted = request.query.get("status")
    allowed = [status.value for status in JobStatus]
    if wanted is not None and wanted not in allowed:
        raise ApiError(
            400, "invalid_option", f"unknown status {wanted!r}; allowed: {allowed}"
        )
    jobs = [
        _status_body(request, job)
        for job in _scheduler(request).table
        if (wanted is None or job.status.value == wanted)
        and job.owner == request[OWNER_KEY]
    ]
    return json_response({"jobs": jobs, "count": len(jobs)})


@routes.get("/v1/jobs/stats")
async def job_stats(request: web.Request) -> web.Response:
    scheduler = _scheduler(request)
    settings = request.app[SETTINGS]
    supervisor = scheduler.supervisor
    # With API keys, "jobs", "outcomes" and "queue.running" cover the caller's
    # key only. The other figures describe the queue, runner child and settings
    # that all keys share.
    body = {
        "queue": {
            "waiting": len(scheduler.pending),
            "limit": settings.max_queue,
            "running": _visible_running_id(request, scheduler),
            "busy": scheduler.running is not None,
        },
        "jobs": scheduler.table.counts(owner=request[OWNER_KEY]),
        "outcomes": scheduler.outcomes_of(request[OWNER_KEY]),
        "child": {
            "pid": supervisor.pid,
            "ready": supervisor.ready,
            "restarts": supervisor.restarts,
        },
        "limits": {
            "max_queue": settings.max_queue,
            "max_tokens": settings.max_tokens,
            "max_body_bytes": settings.max_body_bytes,
            "result_ttl_s": settings.result_ttl_s,
            "sync_max_tokens": settings.sync_max_tokens,
            "sync_timeout_s": settings.sync_timeout_s,
        },
    }
    return json_response(body)


def _visible_running_id(request: web.Request, scheduler: JobScheduler) -> str | None:
    job = scheduler.running
    if job is None or job.owner != request[OWNER_KEY]:
        return None
    return job.job_id


@routes.get("/v1/jobs/{job_id}")
async def job_status(request: web.Request) -> web.Response:
    return json_response(_status_body(request, _find_job(request)))


@routes.get("/v1/jobs/{job_id}/result")
async def job_result(request: web.Request) -> web.StreamResponse:
    job = _find_job(request)
    _check_result_ready(request, job)
    return await stream_result(request, job)


@routes.get("/v1/jobs/{job_id}/booknlp.zip")
async def job_native_archive(request: web.Request) -> web.StreamResponse:
    job = _find_job(request)
    _check_result_ready(request, job)
    path = native_archive_path(job.result_path)
    if not os.path.exists(path):
        if os.path.exists(job.result_path):
            raise ApiError(
                404, "no_native_output",
                f"job {job.job_id} has no BookNLP files: only jobs run by the "
                "'booknlp' engine have them, and this server runs engine "
                f"{request.app[SETTINGS].engine!r}. Fetch GET "
                f"/v1/jobs/{job.job_id}/result instead",
            )  # fmt: skip
        raise result_missing(request, job, job.result_path)
    disposition = f'attachment; filename="{job.job_id}.booknlp.zip"'
    return await stream_result(
        request, job, path, "application/zip", {"Content-Disposition": disposition}
    )


def _check_result_ready(request: web.Request, job: Job) -> None:
    if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
        raise ApiError(
            425, "job_not_finished",
            f"job {job.job_id} is {job.status.value} ({job.progress:.0f}% done); "
            f"poll GET /v1/jobs/{job.job_id} until it is completed",
            status=job.status.value, progress=job.progress,
        )  # fmt: skip
    if job.status is JobStatus.FAILED:
        error = job.error or {}
        raise ApiError(
            409, "job_failed",
            f"job {job.job_id} failed: {error.get('message', 'unknown error')}",
            status=job.status.value, cause=error,
        )  # fmt: skip
    if job.status is JobStatus.CANCELLED:
        raise ApiError(
            409, "job_cancelled", f"job {job.job_id} was cancelled; it has no result",
            status=job.status.value,
        )  # fmt: skip


@routes.delete("/v1/jobs/{job_id}")
async def cancel_job(request: web.Request) -> web.Response:
    job = _find_job(request)
    if job.status.finished:
        raise ApiError(
            409, "job_finished",
            f"job {job.job_id} is already {job.status.value}; only pending and "
            "running jobs can be cancelled",
            status=job.status.value,
        )  # fmt: skip
    _scheduler(request).cancel(job)
    status = 200 if job.status.finished else 202
    return json_response(_status_body(request, job), status)


@routes.post("/v1/analyze")
async def analyze(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    scheduler = _scheduler(request)
    # The size is checked first, because a document over sync_max_tokens never
    # fits here, and a 503 would invite a retry that cannot succeed. The check
    # needs the body, so it is read even while the queue is full.
    check_submission_headers(
        request, settings.max_body_bytes, ENGINES[settings.engine]
    )
    submission, tokens = await _read_submission(request)
    # max_tokens bounds every document, so it applies here too when it is lower.
    _check_token_limit(
        tokens, min(settings.sync_max_tokens, settings.max_tokens),
        _analyze_limit_hint(tokens, settings),
    )  # fmt: skip
    _check_queue_space(scheduler)
    job = await _enqueue(request, submission, tokens)
    if not await scheduler.wait_finished(job.job_id, settings.sync_timeout_s):
        location = f"/v1/jobs/{job.job_id}"
        body = _status_body(request, job)
        return json_response(body, 202, {"Location": location})
    _check_result_ready(request, job)
    return await stream_result(request, job)


def _analyze_limit_hint(tokens: int, settings: Settings) -> str:
    """Return what to do with a document too long for POST /v1/analyze.

    POST /v1/jobs is suggested only when its own limit, ``max_tokens``, is the
    larger one.
    """
    if tokens <= settings.max_tokens:
        return (
            f"Submit it to POST /v1/jobs, which takes up to {settings.max_tokens} "
            "tokens, and poll for the result."
        )
    if settings.max_tokens > settings.sync_max_tokens:
        return (
            f"POST /v1/jobs takes up to {settings.max_tokens} tokens, so split the "
            "document into parts of at most that size and submit each part there."
        )
    return (
        f"Split the document into parts of at most {settings.max_tokens} tokens "
        "and submit each part on its own."
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    scheduler = _scheduler(request)
    scheduler.update_gauges()
    return web.Response(
        body=scheduler.metrics.render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


@routes.get("/v1/health")
async def health(request: web.Request) -> web.Response:
    uptime_s = round(time.time() - request.app[STARTED_AT], 1)
    return json_response({"status": "ok", "uptime_s": uptime_s})


@routes.get("/v1/ready")
async def ready(request: web.Request) -> web.Response:
    scheduler = _scheduler(request)
    supervisor = scheduler.supervisor
    if not scheduler.accepting:
        raise ApiError(
            503, "not_ready",
            "the service is shutting down (it received SIGTERM or SIGINT) and takes "
            "no new jobs; send requests to another instance, or retry once it has "
            "restarted",
            child_pid=supervisor.pid,
        )  # fmt: skip
    if not supervisor.ready or supervisor.ready_info is None:
        raise ApiError(
            503, "not_ready",
            f"the runner is not ready: {supervisor.last_error or 'starting'}",
            child_pid=supervisor.pid,
        )  # fmt: skip
    body = {"ready": True, **supervisor.ready_info, "child_pid": supervisor.pid}
    body.pop("pid", None)
    return json_response(body)


@routes.get("/v1/openapi.json")
async def openapi_description(request: web.Request) -> web.Response:
    from server.openapi import build_openapi

    return json_response(build_openapi(request.app[SETTINGS].engine))
