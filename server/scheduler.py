"""The FIFO of waiting jobs and the dispatcher that runs one job at a time.

The GPU has room for one model, so exactly one job runs, in CPU and GPU mode alike. Jobs
wait in submission order; at most ``max_queue`` may wait (the running job does
not count). The scheduler reacts to the runner child's messages and to its death.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import os
import time
from typing import Any

from runner import protocol
from server.config import Settings
from server.guards import MIB, MemoryGuard, memory_limit_mb
from server.jobs import Job, JobStatus, JobTable
from server.logs import log_event
from server.metrics import ServiceMetrics, restart_cause
from server.supervisor import RunnerSupervisor

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 10
MAX_RETRY_AFTER_S = 600
# Appended to the runner's message for an engine fault. The runner child sends
# the traceback with the error, and the front logs it at DEBUG level.
ENGINE_ERROR_ADVICE = (
    ". This is a fault in the engine, so the same text is likely to fail again. "
    "The service's operator can run it with --log-level DEBUG to log the "
    "traceback, and report it with the book"
)
# A job that was running when the service died runs once more. A job that was
# running through two deaths is failed, because it may be what kills the service.
MAX_ATTEMPTS = 2


class QueueFull(Exception):
    """The FIFO already contains ``max_queue`` or more waiting jobs.

    More than ``max_queue`` jobs wait when the service restarted with a lower
    limit than the one that queued them.
    """

    def __init__(self, waiting: int, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"queue is full: {waiting} jobs are waiting, and the limit is {limit}"
        )
        self.waiting = waiting
        self.limit = limit
        self.retry_after_s = retry_after_s


def engine_unavailable_message(reason: str, next_start_s: float | None) -> str:
    """Return the error for submissions while the engine cannot start.

    ``next_start_s`` is the wait until the service starts the next runner
    child, or None while a child is loading the engine.
    """
    if next_start_s is None:
        retry = "A new runner child is loading the engine now"
    else:
        retry = f"The service starts a new runner child in {next_start_s:.1f} s"
    return (
        f"the runner cannot load its engine: {reason}. {retry}, and the service "
        "takes jobs again once a child has loaded it (GET /v1/ready then returns "
        "200). Fix the cause named here"
    )


def waiting_jobs_failed_message(
    reason: str, next_start_s: float | None, failed_starts: int, failed_jobs: int
) -> str:
    """Return the error of the waiting jobs failed because the engine cannot start."""
    others = failed_jobs - 1
    jobs = "this job"
    if others:
        jobs += f" and the {others} other waiting job{'s' if others > 1 else ''}"
    return (
        f"{engine_unavailable_message(reason, next_start_s)}. The runner failed to "
        f"load its engine {failed_starts} times in a row, so the service failed "
        f"all jobs that were waiting: {jobs}. Submit the book again once GET "
        "/v1/ready returns 200"
    )


class JobScheduler:
    """Queue jobs, feed them to the runner child one by one, record outcomes."""

    def __init__(self, settings: Settings, table: JobTable) -> None:
        self.settings = settings
        self.table = table
        self.pending: collections.deque[str] = collections.deque()
        self.running: Job | None = None
        self.supervisor = RunnerSupervisor(
            settings.child_settings(),
            on_message=self._on_message,
            on_exit=self._on_child_exit,
            start_timeout_s=settings.child_start_timeout_s,
            running_job_id=lambda: self.running.job_id if self.running else None,
        )
        # Finished jobs and child deaths since the start, by the fingerprint of
        # the API key that owns the job (None with keys off, or with no job).
        self._outcomes: collections.defaultdict[
            str | None, collections.Counter[str]
        ] = collections.defaultdict(collections.Counter)
        self.metrics = ServiceMetrics()
        self.memory = MemoryGuard(
            lambda: self.supervisor.pid,
            memory_limit_mb(settings.max_child_memory_mb),
            settings.memory_poll_s,
            self._memory_over_limit,
        )
        # Why the front is about to kill the child; read by the exit handler.
        self._kill_cause: dict[str, str] | None = None
        self._job_deadline: asyncio.TimerHandle | None = None
        self._wake = asyncio.Event()
        self._finished: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._cancel_deadline: asyncio.TimerHandle | None = None
        self._accepting = True

    async def start(self) -> None:
        self._recover()
        # No child runs yet, so every spool and .part file is a previous run's.
        self._remove_leftovers("service_start", dead_job_id=None)
        await self.supervisor.start()
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="dispatch"),
            asyncio.create_task(self._expiry_loop(), name="expiry"),
            asyncio.create_task(self.memory.run(), name="memory-guard"),
        ]

    @property
    def accepting(self) -> bool:
        """Whether new jobs are taken; False once a shutdown has begun."""
        return self._accepting

    async def drain(self, grace_s: float) -> None:
        """Stop taking and dispatching jobs; wait up to ``grace_s`` for the running one."""
        self._accepting = False
        self.supervisor.begin_shutdown()
        job = self.running
        if job is not None:
            log_event(logger, "job.draining", job_id=job.job_id, grace_s=grace_s)
            await self.wait_finished(job.job_id, grace_s)

    async def stop(self) -> None:
        """Stop dispatching and stop the child; unfinished jobs stay stored.

        A job still running is stored as pending again, without counting the
        attempt, because the service stopped it on purpose.
        """
        self._accepting = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        job, self.running = self.running, None
        if job is not None:
            job.status, job.progress, job.stage = JobStatus.PENDING, 0.0, None
            job.attempts = max(0, job.attempts - 1)
            self.table.save(job)
            log_event(logger, "job.requeued", job_id=job.job_id, reason="shutdown")
        await self.supervisor.stop()

    def _recover(self) -> None:
        """Queue again the jobs a previous run of the service left unfinished."""
        for job in self.table.restore():
            if job.status.finished:
                continue
            self._finished[job.job_id] = asyncio.Event()
            if job.status is JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
                self._finish(job, JobStatus.FAILED, {
                    "code": "interrupted",
                    "message": f"the service stopped while running this job "
                    f"{job.attempts} times; it is not tried again. Check the "
                    "service log for a crash or an out-of-memory kill",
                }, child_pid=job.child_pid)  # fmt: skip
                continue
            if not os.path.exists(job.text_path):
                self._finish(job, JobStatus.FAILED, {
                    "code": "text_missing",
                    "message": f"the text of this job ({job.text_path}) was lost "
                    "while the service was down; submit the book again",
                }, child_pid=job.child_pid)  # fmt: skip
                continue
            was_running = job.status is JobStatus.RUNNING
            job.status, job.progress, job.stage = JobStatus.PENDING, 0.0, None
            job.cancel_requested = False
            self.table.save(job)
            self.pending.append(job.job_id)
            log_event(
                logger, "job.recovered", job_id=job.job_id, was_running=was_running,
                attempts=job.attempts, position=len(self.pending),
            )  # fmt: skip

    def submit(self, job: Job) -> int:
        """Append ``job`` to the FIFO and return its 1-based queue position.

        Raises:
            QueueFull: ``max_queue`` jobs are already waiting.
        """
        if len(self.pending) >= self.settings.max_queue:
            raise QueueFull(
                len(self.pending), self.settings.max_queue, self.retry_after_s()
            )
        self.table.add(job)
        self.pending.append(job.job_id)
        self._finished[job.job_id] = asyncio.Event()
        self.metrics.jobs_submitted.inc()
        log_event(
            logger, "job.submitted", job_id=job.job_id, book_id=job.book_id,
            tokens=job.tokens_estimate, chars=job.chars, position=len(self.pending),
        )  # fmt: skip
        self._wake.set()
        return len(self.pending)

    def queue_position(self, job_id: str) -> int | None:
        try:
            return self.pending.index(job_id) + 1
        except ValueError:
            return None

    def cancel(self, job: Job) -> None:
        """Cancel a pending job at once, or ask the child to stop a running one."""
        if job.status is JobStatus.PENDING:
            self.pending.remove(job.job_id)
            job.cancel_requested = True
            self._finish(job, JobStatus.CANCELLED)
            return
        if job.status is JobStatus.RUNNING and not job.cancel_requested:
            job.cancel_requested = True
            log_event(logger, "job.cancel_requested", job_id=job.job_id)
            try:
                self.supervisor.send(protocol.CANCEL, {"job_id": job.job_id})
            except RuntimeError:
                pass  # The child is gone; its exit handler ends the job.
            # A chunk that never ends (a hung engine) must not hold the queue.
            self._cancel_deadline = asyncio.get_running_loop().call_later(
                self.settings.cancel_grace_s, self._kill_for_cancel, job.job_id
            )

    async def wait_finished(self, job_id: str, timeout_s: float) -> bool:
        """Wait until the job finishes; return False if ``timeout_s`` passed first."""
        event = self._finished.get(job_id)
        if event is None:
            return True
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except asyncio.TimeoutError:
            return False
        return True

    def retry_after_s(self) -> int:
        """Estimate the seconds until a queue slot frees, for ``Retry-After``."""
        job = self.running
        if job is None or job.started_at is None or job.progress <= 0:
            return DEFAULT_RETRY_AFTER_S
        elapsed = time.time() - job.started_at
        remaining = elapsed * (100.0 - job.progress) / job.progress
        return int(min(MAX_RETRY_AFTER_S, max(1, math.ceil(remaining))))

    async def _dispatch_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._dispatch()

    def _dispatch(self) -> None:
        if self.running is not None or not self.supervisor.ready or not self._accepting:
            return
        while self.pending:
            job = self.table.get(self.pending[0])
            if job is None or job.status is not JobStatus.PENDING:
                self.pending.popleft()
                continue
            try:
                self.supervisor.send(protocol.JOB, self._job_message(job))
            except RuntimeError as exc:
                log_event(logger, "job.dispatch_failed", job_id=job.job_id, error=exc)
                return  # The child's exit handler restarts it and wakes us.
            self.pending.popleft()
            job.status, job.started_at, job.stage = JobStatus.RUNNING, time.time(), None
            job.attempts += 1
            job.child_pid = self.supervisor.pid
            self.table.save(job)
            self.running = job
            self.memory.reset_peak()
            self._job_deadline = asyncio.get_running_loop().call_later(
                self.settings.max_job_s, self._job_over_time, job.job_id
            )
            log_event(
                logger, "job.started", job_id=job.job_id,
                child_pid=self.supervisor.pid, waited_s=job.started_at - job.submitted_at,
            )  # fmt: skip
            return

    @staticmethod
    def _job_message(job: Job) -> dict[str, Any]:
        return {
            "job_id": job.job_id,
            "text_path": job.text_path,
            "result_path": job.result_path,
            "options": {
                "components": list(job.components),
                "model": job.model,
                "book_id": job.book_id,
                "tokens_estimate": job.tokens_estimate,
            },
        }

    def _on_message(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == protocol.READY:
            self._wake.set()
            return
        job = self.running
        if job is None or payload.get("job_id") != job.job_id:
            return  # A late message about a job that already ended.
        if kind == protocol.PROGRESS:
            # Progress only moves forward, even if a stage reports a smaller share.
            job.progress = max(job.progress, float(payload.get("progress", 0.0)))
            job.stage = payload.get("stage")
            job.tokens_done = int(payload.get("tokens_done", 0))
            job.tokens_total = int(payload.get("tokens_total", 0))
            logger.debug("job %s: %.1f%% stage %s", job.job_id, job.progress, job.stage)
        elif kind == protocol.RESULT:
            job.stats = dict(payload.get("stats", {}))
            job.progress, job.stage = 100.0, "done"
            self._finish(job, JobStatus.COMPLETED)
        elif kind == protocol.CANCELLED:
            self._finish(job, JobStatus.CANCELLED)
        elif kind == protocol.ERROR:
            error_kind = payload.get("kind", "engine")
            message = str(payload.get("message", "the engine failed"))
            if error_kind == "engine":
                message += ENGINE_ERROR_ADVICE
            error = {"code": f"{error_kind}_error", "message": message}
            if payload.get("traceback"):
                logger.debug("job %s traceback:\n%s", job.job_id, payload["traceback"])
            self._finish(job, JobStatus.FAILED, error)

    def outcomes_of(self, owner: str | None) -> dict[str, int]:
        """Count the finished jobs of ``owner`` by status, and its child deaths.

        A child death counts for the owner of the job it was running. One with
        no job running counts for ``None``, which only a service without API
        keys shows.
        """
        return dict(self._outcomes.get(owner, {}))

    def _on_child_exit(
        self, cause: str, pid: int | None, kill_code: str | None
    ) -> None:
        job = self.running
        owner = job.owner if job is not None else None
        kill_cause, self._kill_cause = self._kill_cause, None
        if kill_code is None and kill_cause is not None:
            kill_code = kill_cause["code"]
        self.metrics.child_restarts.labels(restart_cause(cause, kill_code)).inc()
        if job is not None:
            if job.cancel_requested:
                self._finish(job, JobStatus.CANCELLED, child_pid=pid)
            elif kill_cause is not None:
                self._finish(job, JobStatus.FAILED, kill_cause, child_pid=pid)
            else:
                error = {"code": "child_died", "message": cause}
                self._finish(job, JobStatus.FAILED, error, child_pid=pid)
        self._outcomes[owner]["child_death"] += 1
        # The dead child cannot delete the spool and .part files of its job, and
        # the next child starts no job before it is ready.
        self._remove_leftovers("child_died", job.job_id if job is not None else None)
        reason = self.supervisor.unavailable_reason
        if reason is not None:
            self._fail_waiting(reason)
        self._wake.set()

    def _remove_leftovers(self, reason: str, dead_job_id: str | None) -> None:
        """Delete the files that dead children left, and log one line per job.

        ``dead_job_id`` is the job that the dead child ran. A leftover whose
        name carries no job id is logged as that job's.
        """
        try:
            removed = self.table.remove_leftovers()
        except OSError as exc:
            log_event(
                logger, "job.leftovers_remove_failed", logging.ERROR, reason=reason,
                error=exc,
            )  # fmt: skip
            return
        if None in removed and dead_job_id is not None:
            removed.setdefault(dead_job_id, []).extend(removed.pop(None))
        for job_id, names in removed.items():
            job_field = {"job_id": job_id} if job_id is not None else {}
            log_event(
                logger, "job.leftovers_removed", **job_field, reason=reason,
                files=len(names), names=",".join(sorted(names)),
            )  # fmt: skip

    def _fail_waiting(self, reason: str) -> None:
        """Fail every waiting job: the engine has failed to start several times."""
        waiting = [self.table.get(job_id) for job_id in self.pending]
        jobs = [job for job in waiting if job is not None]
        self.pending.clear()
        if not jobs:
            return
        message = waiting_jobs_failed_message(
            reason, self.supervisor.seconds_until_start(),
            self.supervisor.failed_starts, len(jobs),
        )  # fmt: skip
        log_event(
            logger, "job.waiting_failed", logging.WARNING, jobs=len(jobs),
            job_ids=",".join(job.job_id for job in jobs),
            failed_starts=self.supervisor.failed_starts,
        )  # fmt: skip
        for job in jobs:
            self._finish(job, JobStatus.FAILED, {
                "code": "engine_unavailable", "message": message,
            })  # fmt: skip

    def _memory_over_limit(self, current_mb: float, peak_mb: float) -> None:
        if self._kill_cause is not None:
            return  # Already killing it.
        limit = self.memory.limit_mb
        used, peak = round(current_mb), round(peak_mb)
        # The guard fires above the limit, which can round to the limit itself.
        relation = "over" if used > limit else "reaching"
        usage = (
            f"used {used} MiB (peak {peak} MiB), {relation} the limit of {limit} MiB "
            "(max_child_memory_mb)"
        )
        raise_limit = (
            "raise BOOKNLP_JOBS_MAX_CHILD_MEMORY_MB (--max-child-memory-mb) if the "
            "machine has the memory"
        )
        if self.running is not None:
            job_id = self.running.job_id
            message = f"the runner child {usage}; split the book, or {raise_limit}"
            reason = f"it {usage} while running job {job_id}; split the book, or "
            reason += raise_limit
        elif self.supervisor.ready:
            message = reason = f"it {usage} with no job running; {raise_limit}"
        else:
            # The model alone needs more than the limit, so no book fits.
            message = reason = f"it {usage} while loading its engine; {raise_limit}"
        self._kill_cause = {"code": "memory_limit", "message": message}
        self.supervisor.kill("memory_limit", reason)

    def _job_over_time(self, job_id: str) -> None:
        if self.running is None or self.running.job_id != job_id:
            return
        limit = self.settings.max_job_s
        message = (
            f"the job ran longer than the limit of {limit:g} s (max_job_s) and was "
            "stopped; split the book, or raise BOOKNLP_JOBS_MAX_JOB_S"
        )
        self._kill_cause = {"code": "time_limit", "message": message}
        self.supervisor.kill(
            "time_limit",
            f"job {job_id} ran longer than the limit of {limit:g} s (max_job_s); "
            "split the book, or raise BOOKNLP_JOBS_MAX_JOB_S",
        )  # fmt: skip

    def _kill_for_cancel(self, job_id: str) -> None:
        if self.running is not None and self.running.job_id == job_id:
            reason = (
                f"job {job_id} did not stop within {self.settings.cancel_grace_s:g} s "
                "of its cancel"
            )
            self._kill_cause = {"code": "cancel_timeout", "message": reason}
            self.supervisor.kill("cancel_timeout", reason)

    def _finish(
        self,
        job: Job,
        status: JobStatus,
        error: dict[str, str] | None = None,
        child_pid: int | None = None,
    ) -> None:
        """Record how ``job`` ended and log it.

        ``child_pid`` is the child that ran the job, logged with a failure. It
        defaults to the current child when ``job`` is the running one. For a
        job that fails as the service starts again, the caller passes the
        child of the previous run, which is None for a job that never ran.
        """
        job.status, job.finished_at, job.error = status, time.time(), error
        if self.running is job:
            child_pid = child_pid or self.supervisor.pid
            job.stats["peak_child_mb"] = round(self.memory.peak_mb)
            self.running = None
            for timer in (self._cancel_deadline, self._job_deadline):
                if timer is not None:
                    timer.cancel()
            self._cancel_deadline = self._job_deadline = None
        self.table.save(job)

        # The text is no longer needed; the result stays until the job expires.
        self.table.delete_files(job, keep_result=status is JobStatus.COMPLETED)
        self._outcomes[job.owner][status.value] += 1
        self._count_outcome(job)
        self._log_outcome(job, child_pid)
        event = self._finished.pop(job.job_id, None)
        if event is not None:
            event.set()
        self._wake.set()

    def _count_outcome(self, job: Job) -> None:
        outcome = job.status.value
        self.metrics.jobs_finished.labels(outcome).inc()
        if job.started_at is not None and job.finished_at is not None:
            self.metrics.job_seconds.labels(outcome).observe(
                job.finished_at - job.started_at
            )
        if job.status is JobStatus.COMPLETED:
            self.metrics.tokens.inc(int(job.stats.get("tokens", 0)))

    def update_gauges(self) -> None:
        """Refresh the gauges that describe the present, before a scrape."""
        self.metrics.queue_waiting.set(len(self.pending))
        self.metrics.queue_running.set(1 if self.running else 0)
        self.metrics.child_memory.set(self.memory.current_mb * MIB)
        self.metrics.child_peak_memory.set(self.memory.peak_mb * MIB)
        self.metrics.child_ready.set(1 if self.supervisor.ready else 0)

    def _log_outcome(self, job: Job, child_pid: int | None) -> None:
        ran_s = (job.finished_at or 0.0) - (job.started_at or job.submitted_at)
        if job.status is JobStatus.COMPLETED:
            tokens = int(job.stats.get("tokens", 0))
            log_event(
                logger, "job.completed", job_id=job.job_id, tokens=tokens,
                seconds=ran_s, tokens_per_s=tokens / ran_s if ran_s > 0 else 0.0,
                peak_child_mb=job.stats.get("peak_child_mb"),
            )  # fmt: skip
            if "memory_retry" in job.stats:
                log_event(
                    logger, "job.memory_retry", logging.WARNING, job_id=job.job_id,
                    detail=job.stats["memory_retry"],
                )  # fmt: skip
        elif job.status is JobStatus.FAILED:
            error = job.error or {}
            # A job that failed before any child ran it has no child_pid.
            child = {"child_pid": child_pid} if child_pid is not None else {}
            log_event(
                logger, "job.failed", logging.WARNING, job_id=job.job_id,
                code=error.get("code"), **child, cause=error.get("message"),
            )  # fmt: skip
        else:
            log_event(logger, "job.cancelled", job_id=job.job_id, seconds=ran_s)

    async def _expiry_loop(self) -> None:
        interval_s = min(30.0, max(0.05, self.settings.result_ttl_s / 4))
        while True:
            await asyncio.sleep(interval_s)
            for job in self.table.pop_expired(time.time()):
                log_event(logger, "job.expired", job_id=job.job_id, status=job.status.value)
