"""Jobs and the table that holds them while they wait, run and await collection."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import time
import uuid
from typing import Any, Iterator


class JobStatus(str, enum.Enum):
    """Where a job is in its life; the value is what the API returns."""

    PENDING = "pending"  #: waiting in the FIFO
    RUNNING = "running"  #: handed to the runner child
    COMPLETED = "completed"  #: result file written
    FAILED = "failed"  #: engine error, child death or bad input found late
    CANCELLED = "cancelled"  #: cancelled by a client before it finished

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def new_job_id() -> str:
    return uuid.uuid4().hex


def is_job_id(value: str) -> bool:
    """Return whether ``value`` has the form of a job id (32 lower-case hex digits)."""
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def iso_time(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclasses.dataclass
class Job:
    """One submitted book and everything the API reports about it.

    Times are seconds since the epoch (``time.time()``).
    """

    job_id: str
    text_path: str
    result_path: str
    tokens_estimate: int
    chars: int
    components: tuple[str, ...]
    model: str
    book_id: str | None = None
    status: JobStatus = JobStatus.PENDING
    submitted_at: float = dataclasses.field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    progress: float = 0.0
    stage: str | None = None
    tokens_done: int = 0
    tokens_total: int = 0
    error: dict[str, str] | None = None
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)
    cancel_requested: bool = False

    def to_status(self, queue_position: int | None) -> dict[str, Any]:
        """Return the body of ``GET /v1/jobs/{id}``."""
        return {
            "job_id": self.job_id,
            "book_id": self.book_id,
            "status": self.status.value,
            "progress": self.progress,
            "stage": self.stage,
            "tokens_done": self.tokens_done,
            "tokens_total": self.tokens_total or self.tokens_estimate,
            "queue_position": queue_position,
            "model": self.model,
            "components": list(self.components),
            "submitted_at": iso_time(self.submitted_at),
            "started_at": iso_time(self.started_at),
            "finished_at": iso_time(self.finished_at),
            "cancel_requested": self.cancel_requested,
            "error": self.error,
        }


class JobTable:
    """The jobs the service holds, in submission order, with their spool files.

    The table owns the text and result files: it deletes them when a job expires.
    """

    def __init__(self, spool_dir: str, result_ttl_s: float) -> None:
        self.spool_dir = spool_dir
        self.result_ttl_s = result_ttl_s
        self._jobs: dict[str, Job] = {}
        for sub in ("texts", "results"):
            os.makedirs(os.path.join(spool_dir, sub), exist_ok=True)

    def text_path(self, job_id: str) -> str:
        return os.path.join(self.spool_dir, "texts", job_id + ".txt")

    def result_path(self, job_id: str) -> str:
        return os.path.join(self.spool_dir, "results", job_id + ".json")

    def add(self, job: Job) -> None:
        self._jobs[job.job_id] = job

    def get(self, job_id: str) -> Job | None:
        """Return the job, or None when it is unknown or has expired."""
        job = self._jobs.get(job_id)
        if job is not None and self.is_expired(job, time.time()):
            return None
        return job

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def is_expired(self, job: Job, now: float) -> bool:
        return (
            job.finished_at is not None
            and job.status.finished
            and now - job.finished_at >= self.result_ttl_s
        )

    def pop_expired(self, now: float) -> list[Job]:
        """Remove the jobs whose results have outlived the TTL; delete their files."""
        expired = [job for job in self._jobs.values() if self.is_expired(job, now)]
        for job in expired:
            del self._jobs[job.job_id]
            self.delete_files(job)
        return expired

    @staticmethod
    def delete_files(job: Job, keep_result: bool = False) -> None:
        paths = [job.text_path] if keep_result else [job.text_path, job.result_path]
        for path in paths:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in JobStatus}
        for job in self._jobs.values():
            counts[job.status.value] += 1
        return counts
