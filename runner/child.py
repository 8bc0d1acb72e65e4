"""The runner child: load the engine once, then run the jobs the front sends.

The front starts this process with the ``spawn`` context and talks to it over one
duplex pipe (see ``runner.protocol``). Any error inside a job is caught and sent
back as an ``error`` message, so one bad book never takes the model down with it.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import logging.config
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from runner import protocol
from runner.analysis.result_writer import spool_job_id
from runner.engine import Engine, JobCancelled, JobInputError, JobRequest
from runner.engine import ProgressReporter

logger = logging.getLogger(__name__)

# Progress messages closer together than this are merged; a stage change is
# always sent. Ten a second is more than any client polls.
PROGRESS_INTERVAL_S = 0.1
# The kernel's OOM killer picks the process with the highest score; 1000 is the
# maximum, so under memory pressure the child dies and the front survives.
OOM_SCORE_ADJ = 1000
PR_SET_PDEATHSIG = 1


class ParentGone(Exception):
    """The pipe to the front closed: the front exited or was killed."""


class JobChannel:
    """The child's side of the pipe while a job runs.

    Between chunks the engine calls ``cancel_requested``, which drains the pipe,
    so a ``cancel`` or ``stop`` sent mid-job takes effect within one chunk.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.job_id: str | None = None
        self.cancelled = False
        self.stop_requested = False
        self.backlog: collections.deque[protocol.Message] = collections.deque()
        self._last_sent = 0.0
        self._last_stage: str | None = None

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        try:
            self.conn.send((kind, payload))
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise ParentGone(str(exc)) from exc

    def send_progress(self, update: dict[str, Any]) -> None:
        now = time.monotonic()
        stage_changed = update["stage"] != self._last_stage
        if not stage_changed and now - self._last_sent < PROGRESS_INTERVAL_S:
            return
        self._last_sent, self._last_stage = now, update["stage"]
        self.send(protocol.PROGRESS, {"job_id": self.job_id, **update})

    def cancel_requested(self) -> bool:
        try:
            while self.conn.poll():
                kind, payload = self.conn.recv()
                if kind == protocol.CANCEL and payload.get("job_id") == self.job_id:
                    self.cancelled = True
                elif kind == protocol.STOP:
                    self.stop_requested = self.cancelled = True
                elif kind != protocol.CANCEL:
                    # The front sends one job at a time; keep anything else for later.
                    self.backlog.append((kind, payload))
        except (EOFError, OSError) as exc:
            raise ParentGone(str(exc)) from exc
        return self.cancelled

    def next_message(self) -> protocol.Message:
        if self.backlog:
            return self.backlog.popleft()
        try:
            message: protocol.Message = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise ParentGone(str(exc)) from exc
        return message


def main(conn: Connection, settings: dict[str, Any]) -> None:
    """Serve jobs from ``conn`` until the front sends ``stop`` or goes away."""
    logging.config.dictConfig(_logging_config(settings.get("log_level", "INFO")))
    # Ctrl-C in a terminal reaches the whole process group; the front decides
    # when the child stops, so the child ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _protect_front(settings.get("oom_score_adj", OOM_SCORE_ADJ))
    channel = JobChannel(conn)
    exit_code = 0
    try:
        engine = _load_engine(
            channel, settings["engine"], repeat=settings.get("failed_starts", 0) > 0
        )
        if engine is None:
            exit_code = 1
        else:
            _serve(channel, engine)
    except ParentGone:
        logger.warning("child %d: front process went away; exiting", os.getpid())
    finally:
        conn.close()
    # Skip interpreter teardown: nothing is left to flush, and torch's atexit
    # hooks can hang when the parent is already gone.
    logging.shutdown()
    os._exit(exit_code)


def _serve(channel: JobChannel, engine: Engine) -> None:
    description = engine.describe()
    channel.send(protocol.READY, {**description, "pid": os.getpid()})
    while not channel.stop_requested:
        kind, payload = channel.next_message()
        if kind == protocol.STOP:
            return
        if kind == protocol.JOB:
            _run_job(channel, engine, payload)
            # A job may load or unload models, which /v1/ready reports.
            current = engine.describe()
            if current != description:
                description = current
                channel.send(protocol.DESCRIBED, {**description, "pid": os.getpid()})
        # A cancel for a job that already ended is ignored.


def _load_engine(channel: JobChannel, name: str, repeat: bool) -> Engine | None:
    """Load the engine; on failure, tell the front why and return None.

    ``repeat`` is set when the previous start failed too: the traceback is then
    left out of the log, since the front restarts the child until it loads.
    """
    from runner.engines import load_engine

    started = time.monotonic()
    try:
        engine = load_engine(name)
    except Exception as exc:  # The front must hear why, whatever it was.
        if repeat:
            logger.error("child %d: engine %r failed to load again: %s", os.getpid(), name, exc)
        else:
            logger.exception("child %d: engine %r failed to load", os.getpid(), name)
        channel.send(
            protocol.FATAL,
            {"message": f"engine {name!r} failed to load: {exc}",
             "traceback": traceback.format_exc()},
        )  # fmt: skip
        return None
    logger.info(
        "child %d: engine %s loaded in %.1fs", os.getpid(), name,
        time.monotonic() - started,
    )  # fmt: skip
    return engine


def _run_job(channel: JobChannel, engine: Engine, payload: dict[str, Any]) -> None:
    job_id = payload["job_id"]
    options = payload.get("options", {})
    request = JobRequest(
        job_id=job_id,
        text_path=payload["text_path"],
        result_path=payload["result_path"],
        components=tuple(options.get("components", ())),
        model=options.get("model", ""),
        book_id=options.get("book_id"),
    )
    channel.job_id, channel.cancelled = job_id, False
    reporter = ProgressReporter(
        send=channel.send_progress,
        cancel_requested=channel.cancel_requested,
        stage_weights=getattr(engine, "STAGE_WEIGHTS", {"analyse": 1.0}),
        tokens_total=int(options.get("tokens_estimate", 0)),
    )
    started = time.monotonic()
    logger.info("child %d: job %s started", os.getpid(), job_id)
    spool_owner = spool_job_id.set(job_id)
    try:
        stats = _run_with_memory_retry(engine, request, reporter)
    except JobCancelled:
        logger.info("child %d: job %s cancelled", os.getpid(), job_id)
        channel.send(protocol.CANCELLED, {"job_id": job_id})
        return
    except ParentGone:
        raise
    except BaseException as exc:  # noqa: BLE001
        # SystemExit too: some NLP libraries call sys.exit on a bad option, and
        # that must fail the job, not end the child that has the model loaded.
        _send_job_error(channel, job_id, exc)
        return
    finally:
        channel.job_id = None
        spool_job_id.reset(spool_owner)
    stats["elapsed_s"] = round(time.monotonic() - started, 3)
    channel.send(
        protocol.RESULT,
        {"job_id": job_id, "result_path": request.result_path, "stats": stats},
    )


class OutOfMemoryAfterRetry(Exception):
    """The job ran out of memory, also on its retry with a halved batch size."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Return whether ``exc`` is a MemoryError or torch's CUDA out-of-memory error."""
    if isinstance(exc, MemoryError):
        return True
    # Matched by name so that this module does not import torch.
    return type(exc).__name__ == "OutOfMemoryError" and "torch" in type(exc).__module__


def _run_with_memory_retry(
    engine: Engine, request: JobRequest, reporter: ProgressReporter
) -> dict[str, Any]:
    """Run the job; after running out of memory, retry once with half the batch."""
    try:
        return engine.run(request, reporter)
    except BaseException as exc:
        if not is_out_of_memory(exc) or not engine.batch_size or engine.batch_size < 2:
            raise
        first_error = f"{type(exc).__name__}: {exc}"
    _release_cuda_cache()
    original = engine.batch_size
    engine.batch_size = original // 2
    logger.warning(
        "child %d: job %s ran out of memory (%s); retrying once with batch size %d",
        os.getpid(), request.job_id, first_error, engine.batch_size,
    )  # fmt: skip
    try:
        stats = engine.run(request, reporter)
    except BaseException as exc:
        if is_out_of_memory(exc):
            raise OutOfMemoryAfterRetry(
                f"{first_error}; the retry with batch size {engine.batch_size} ran "
                f"out of memory too ({type(exc).__name__})"
            ) from exc
        raise
    finally:
        engine.batch_size = original
        _release_cuda_cache()
    stats["memory_retry"] = f"{first_error}; succeeded with batch size {original // 2}"
    return stats


def _release_cuda_cache() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _send_job_error(channel: JobChannel, job_id: str, exc: BaseException) -> None:
    if isinstance(exc, JobInputError):
        kind, message = "input", str(exc)
    elif isinstance(exc, OutOfMemoryAfterRetry):
        kind = "memory"
        message = (
            f"the runner ran out of memory on this job: {exc}; split the book or "
            "run it on a machine with more memory"
        )
    elif is_out_of_memory(exc):
        kind = "memory"
        message = (
            f"the runner ran out of memory on this job ({type(exc).__name__}: "
            f"{exc}); split the book or run it on a machine with more memory"
        )
    elif isinstance(exc, SystemExit):
        kind, message = "engine", f"the engine called sys.exit({exc.code!r})"
    else:
        kind, message = "engine", f"the engine failed: {type(exc).__name__}: {exc}"
    logger.error("child %d: job %s failed (%s): %s", os.getpid(), job_id, kind, message)
    channel.send(
        protocol.ERROR,
        {"job_id": job_id, "message": message, "kind": kind,
         "traceback": traceback.format_exc()},
    )  # fmt: skip


def _protect_front(score: int) -> None:
    """Make the child the OOM killer's first pick and die with the front."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write(str(score))
    except OSError as exc:
        logger.warning("child %d: could not raise oom_score_adj: %s", os.getpid(), exc)
    if sys.platform.startswith("linux"):
        # If the front is killed outright, the kernel sends this child SIGTERM,
        # so no orphan keeps the GPU busy when the service restarts.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            logger.warning("child %d: prctl(PR_SET_PDEATHSIG) failed", os.getpid())


def _logging_config(level: str) -> dict[str, Any]:
    # The front's format (server.logs), written out again because the child
    # imports nothing from server/: its log lines must interleave cleanly.
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "line": {
                "format": "%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
