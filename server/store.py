"""Durable job records: SQLite in write-ahead-log mode, or memory only.

Each job is one row: its id, its submission order, its status and the whole job
record as JSON. Texts and results are files beside the database, owned by
``server.jobs.JobTable``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from typing import Any, Iterator

import orjson

logger = logging.getLogger(__name__)

DATABASE_NAME = "jobs.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs (seq);
"""


class JobStore:
    """Storage of job records across restarts; this base class stores nothing."""

    durable = False

    def insert(self, seq: int, job_id: str, status: str, record: dict[str, Any]) -> None:
        """Store a new job."""

    def update(self, job_id: str, status: str, record: dict[str, Any]) -> None:
        """Store a job's new state."""

    def delete(self, job_ids: list[str]) -> None:
        """Forget expired jobs."""

    def load(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, record)`` for every stored job in submission order."""
        return iter(())

    def close(self) -> None:
        """Release the database."""


class SQLiteJobStore(JobStore):
    """Job records in ``DIR/jobs.sqlite3``.

    WAL mode lets a reader see a consistent table while the front writes, and
    with ``synchronous=NORMAL`` a committed row survives the process being
    killed (only a power loss can drop the last commits).
    """

    durable = True

    def __init__(self, state_dir: str) -> None:
        self.path = os.path.join(state_dir, DATABASE_NAME)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise RuntimeError(
                f"cannot open the job database {self.path}: {exc}; move it aside "
                "to start with an empty job table"
            ) from exc

    def _check_version(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version}, expected {SCHEMA_VERSION}"
            )

    def insert(self, seq: int, job_id: str, status: str, record: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO jobs (job_id, seq, status, record) VALUES (?, ?, ?, ?)",
            (job_id, seq, status, orjson.dumps(record)),
        )

    def update(self, job_id: str, status: str, record: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE jobs SET status = ?, record = ? WHERE job_id = ?",
            (status, orjson.dumps(record), job_id),
        )

    def delete(self, job_ids: list[str]) -> None:
        self._db.executemany(
            "DELETE FROM jobs WHERE job_id = ?", [(job_id,) for job_id in job_ids]
        )

    def load(self) -> Iterator[tuple[int, dict[str, Any]]]:
        rows = self._db.execute("SELECT seq, job_id, record FROM jobs ORDER BY seq")
        for seq, job_id, record in rows.fetchall():
            try:
                yield seq, orjson.loads(record)
            except orjson.JSONDecodeError:
                logger.error("job %s: stored record is not valid JSON; skipped", job_id)

    def close(self) -> None:
        self._db.close()
