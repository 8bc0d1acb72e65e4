"""Stream the result JSON: token rows spooled to disk, then one atomic rename.

Token rows are the bulk of a result (about 200 bytes each), so they are never in
memory all at once. ``TokenSpool`` appends each chunk's rows to a temporary file
as a comma-separated run of JSON objects, and ``write_result`` copies that run
into the ``"tokens"`` array. The result is written to ``<path>.part`` next to the
final path and renamed over it at the end, so a reader never finds half a file.
"""

from __future__ import annotations

import contextvars
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import IO, Any

import orjson

from runner.protocol import TOKEN_SPOOL_SUFFIX, token_spool_prefix

logger = logging.getLogger(__name__)

_COPY_BLOCK_BYTES = 4 * 1024 * 1024

# The job that the runner child is running, set by runner.child around each job.
# A spool's file name carries it, so that the front can name the job whose
# spool a killed child left behind.
spool_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "spool_job_id", default=None
)


class TokenSpool:
    """A temporary file of token rows, appended chunk by chunk.

    The file is ``tokens-<job_id>-<random>.jsonl`` in ``directory``. The job id
    is ``job_id``, else the one in ``spool_job_id``. Without either, the name
    is ``tokens-<random>.jsonl``.
    """

    def __init__(self, directory: str, job_id: str | None = None) -> None:
        if job_id is None:
            job_id = spool_job_id.get()
        handle, self.path = tempfile.mkstemp(
            prefix=token_spool_prefix(job_id), suffix=TOKEN_SPOOL_SUFFIX, dir=directory
        )
        self._file: IO[bytes] = os.fdopen(handle, "wb")
        self.rows = 0
        self.size = 0

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        """Append ``rows``; each becomes one JSON object in the final array."""
        if not rows:
            return
        data = orjson.dumps(rows)[1:-1]
        if self.rows:
            data = b"," + data
        self._file.write(data)
        self.rows += len(rows)
        self.size += len(data)

    def copy_to(self, out: IO[bytes], progress: Callable[[float], None]) -> None:
        """Copy the spooled rows into ``out``, calling ``progress`` with 0..1."""
        self._file.flush()
        copied = 0
        with open(self.path, "rb") as spool:
            while block := spool.read(_COPY_BLOCK_BYTES):
                out.write(block)
                copied += len(block)
                progress(copied / self.size if self.size else 1.0)

    def remove(self) -> None:
        """Close and delete the spool file; safe to call twice."""
        if not self._file.closed:
            self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def write_result(
    path: str,
    header: dict[str, Any],
    spool: TokenSpool | None,
    sections: Iterable[tuple[str, Any]],
    progress: Callable[[float], None],
    trailer: Callable[[], dict[str, Any]],
) -> None:
    """Write ``header``, the spooled tokens, ``sections`` and ``trailer()`` to ``path``.

    Args:
        path: the final result path; ``<path>.part`` is written first.
        header: the leading keys, written first in their order.
        spool: token rows for ``"tokens"``, or None to write an empty array.
        sections: ``(key, value)`` pairs written after ``"tokens"``.
        progress: called with the fraction of the tokens copied so far.
        trailer: returns the last keys (timings); called just before closing.
    """
    if not header:
        raise ValueError("result header is empty; it needs at least the job_id key")
    partial = path + ".part"
    try:
        with open(partial, "wb") as out:
            out.write(orjson.dumps(header)[:-1])
            out.write(b',"tokens":[')
            if spool is not None:
                spool.copy_to(out, progress)
            out.write(b"]")
            for key, value in sections:
                _write_member(out, key, value)
            for key, value in trailer().items():
                _write_member(out, key, value)
            out.write(b"}")
        os.replace(partial, path)
    except BaseException:
        _remove_quietly(partial)
        raise
    logger.debug("result written to %s", path)


def _write_member(out: IO[bytes], key: str, value: Any) -> None:
    out.write(b",")
    out.write(orjson.dumps(key))
    out.write(b":")
    out.write(orjson.dumps(value))


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
