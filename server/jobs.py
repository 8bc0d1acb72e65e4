"""Jobs, and the table of jobs that wait, run or await collection."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import enum
import logging
import os
import shutil
import time
import uuid
from typing import Any, Iterator

from runner.protocol import (
    NATIVE_WORK_DIR_INFIX,
    PARTIAL_SUFFIX,
    TOKEN_SPOOL_PREFIX,
    TOKEN_SPOOL_SUFFIX,
    native_archive_path,
)
from server.logs import log_event
from server.store import JobStore

logger = logging.getLogger(__name__)


class JobStatus(str, enum.Enum):
    """The state of a job; the value is the ``status`` string of the API."""

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
    # How many times the job was handed to a child; a job that was running when
    # the service died is run once more, then failed.
    attempts: int = 0
    # Fingerprint of the API key that submitted the job, None without keys.
    owner: str | None = None
    # Pid of the runner child that last ran the job, None before it first runs.
    # Stored, so that a job failed after a restart can name the child in the
    # previous run's log.
    child_pid: int | None = None

    def to_record(self) -> dict[str, Any]:
        """Return the job as plain values for the job store."""
        record = dataclasses.asdict(self)
        record["status"] = self.status.value
        record["components"] = list(self.components)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Job":
        known = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in record.items() if key in known}
        values["status"] = JobStatus(values["status"])
        values["components"] = tuple(values.get("components", ()))
        return cls(**values)

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
            "attempts": self.attempts,
            "stats": self.stats,
            "error": self.error,
        }


class JobTable:
    """The jobs the service holds, in submission order, with their spool files.

    Every change that matters after a restart goes through ``add`` or ``save``
    to the job store. The table owns the text and result files: it deletes
    them when a job expires.
    """

    def __init__(self, spool_dir: str, result_ttl_s: float, store: JobStore) -> None:
        self.spool_dir = spool_dir
        self.result_ttl_s = result_ttl_s
        self.store = store
        self._jobs: dict[str, Job] = {}
        self._next_seq = 1
        for sub in ("texts", "results"):
            os.makedirs(os.path.join(spool_dir, sub), exist_ok=True)

    def text_path(self, job_id: str) -> str:
        return os.path.join(self.spool_dir, "texts", job_id + ".txt")

    def result_path(self, job_id: str) -> str:
        return os.path.join(self.spool_dir, "results", job_id + ".json")

    def restore(self) -> list[Job]:
        """Load the stored jobs in submission order; return them."""
        for seq, record in self.store.load():
            job = Job.from_record(record)
            # Paths follow the state folder, which may have moved since.
            job.text_path = self.text_path(job.job_id)
            job.result_path = self.result_path(job.job_id)
            self._jobs[job.job_id] = job
            self._next_seq = max(self._next_seq, seq + 1)
        return list(self._jobs.values())

    def add(self, job: Job) -> None:
        self.store.insert(self._next_seq, job.job_id, job.status.value, job.to_record())
        self._next_seq += 1
        self._jobs[job.job_id] = job

    def save(self, job: Job) -> None:
        self.store.update(job.job_id, job.status.value, job.to_record())

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
        if expired:
            self.store.delete([job.job_id for job in expired])
        return expired

    @staticmethod
    def delete_files(job: Job, keep_result: bool = False) -> None:
        paths = [job.text_path]
        if not keep_result:
            # BookNLP's native archive, when the engine wrote one, goes with it.
            paths += [job.result_path, native_archive_path(job.result_path)]
        for path in paths:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def remove_leftovers(self) -> dict[str | None, list[str]]:
        """Delete the files that runner children left in the results folder.

        These are token spools, ``.part`` files and BookNLP work folders, which
        a child deletes itself unless it is killed mid-job. Call this only
        while no child runs a job, because it deletes every such file. A
        failure to delete one is logged and the rest are still deleted.

        Returns:
            The names deleted, by the job id in the name, or under None for a
            name without one.
        """
        results = os.path.join(self.spool_dir, "results")
        removed: dict[str | None, list[str]] = collections.defaultdict(list)
        with os.scandir(results) as entries:
            leftovers = [entry for entry in entries if _is_leftover(entry)]
        for entry in leftovers:
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.remove(entry.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log_event(
                    logger, "job.leftovers_remove_failed", logging.ERROR,
                    path=entry.path, error=exc,
                )  # fmt: skip
                continue
            removed[_leftover_job_id(entry.name)].append(entry.name)
        return dict(removed)

    def counts(self, owner: str | None = None) -> dict[str, int]:
        """Count the jobs of ``owner`` (all jobs when keys are off) by status."""
        counts = {status.value: 0 for status in JobStatus}
        for job in self._jobs.values():
            if job.owner == owner:
                counts[job.status.value] += 1
        return counts


def _is_leftover(entry: os.DirEntry[str]) -> bool:
    """Return whether ``entry`` is a file that only a running job writes."""
    name = entry.name
    if entry.is_dir(follow_symlinks=False):
        return is_job_id(name[:32]) and name[32:].startswith(NATIVE_WORK_DIR_INFIX)
    spool = name.startswith(TOKEN_SPOOL_PREFIX) and name.endswith(TOKEN_SPOOL_SUFFIX)
    return spool or name.endswith(PARTIAL_SUFFIX)


def _leftover_job_id(name: str) -> str | None:
    """Return the job id that a leftover's name starts with, or None."""
    name = name.removeprefix(TOKEN_SPOOL_PREFIX)
    job_id = name[:32]
    if is_job_id(job_id) and name[32:33] in ("-", "."):
        return job_id
    return None
