"""Start, watch and restart the runner child that has the model loaded.

The child runs in its own process (multiprocessing ``spawn``) so that an
out-of-memory kill or a crash in native code takes down only the child. The front
reads the child's end of the pipe from the event loop with ``add_reader``, so it
never blocks on the pipe.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Callable

from runner import protocol
from server.logs import log_event

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, dict[str, Any]], None]
# Called with the cause of the death, the dead child's pid, and the code that
# ``kill`` was given when the front killed the child itself (else None).
ExitHandler = Callable[[str, int | None, str | None], None]

# A child that dies this soon after starting, before reporting ready, counts
# towards a crash loop; restarts then back off up to MAX_RESTART_DELAY_S.
MAX_RESTART_DELAY_S = 30.0
# After this many starts in a row that end before the child is ready, the engine
# counts as unavailable: waiting jobs fail and submissions get 503 until a child
# becomes ready. Restarts go on, so that fixing the cause (a model file put in
# place) brings the service back without a restart by hand.
UNAVAILABLE_AFTER_FAILED_STARTS = 3


# The child's activity when it died, for describe_exit.
RUNNING_JOB = "running_job"
LOADING = "loading"
IDLE = "idle"


def describe_exit(
    exitcode: int | None, activity: str = RUNNING_JOB, restart_note: bool = True
) -> str:
    """Turn a process exit code into the cause a user reads in a job's error.

    ``activity`` is RUNNING_JOB, LOADING (the engine was not loaded yet) or
    IDLE (loaded, with no job). The advice differs, because only a running job
    can be resubmitted. ``restart_note`` adds, for a child killed with no job,
    that a new child starts and no job was lost. That is true of this death,
    but it would contradict the error of the jobs that fail once the engine
    counts as unavailable.
    """
    if exitcode is None:
        return "runner child vanished without an exit status"
    if exitcode >= 0:
        return f"runner child exited with code {exitcode}"
    signum = -exitcode
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if signum != signal.SIGKILL:
        if activity == RUNNING_JOB:
            return f"runner child was killed by {name}; resubmit the job"
        killed = f"runner child was killed by {name} {_activity_phrase(activity)}"
        if not restart_note:
            return killed
        return f"{killed}; the service starts a new child, and no job was lost"
    killers = (
        "either by the kernel for using too much memory (the kernel log names the "
        "OOM killer) or by an operator"
    )
    if activity == RUNNING_JOB:
        return (
            f"runner child was killed by {name}: {killers}. Resubmit the job, split "
            "into shorter texts if memory ran out"
        )
    note = ""
    if restart_note:
        note = " The service starts a new child and no job was lost."
    if activity == LOADING:
        return (
            f"runner child was killed by {name} while it loaded its model, with no "
            f"job running: {killers}.{note} If the OOM killer did it, free memory "
            "on the machine, or raise MemoryMax= in the systemd unit if it is set"
        )
    return (
        f"runner child was killed by {name} with no job running: {killers}."
        f"{note.rstrip('.')}"
    )


def _activity_phrase(activity: str) -> str:
    if activity == LOADING:
        return "while it loaded its model, with no job running"
    return "with no job running"


class RunnerSupervisor:
    """Owns the one runner child: its process, its pipe and its restarts.

    Args:
        child_settings: plain dict passed to the child at start.
        on_message: called on the event loop for each message from the child.
        on_exit: called on the event loop when the child dies; see ExitHandler.
        running_job_id: returns the id of the job the child runs, for the log.
    """

    def __init__(
        self,
        child_settings: dict[str, Any],
        on_message: MessageHandler,
        on_exit: ExitHandler,
        start_timeout_s: float,
        running_job_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._child_settings = child_settings
        self._on_message = on_message
        self._on_exit = on_exit
        self._start_timeout_s = start_timeout_s
        self._running_job_id = running_job_id
        # The process the front is killing, with the code and reason for it.
        self._kill_request: tuple[BaseProcess, str, str] | None = None
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._stopping = False
        # Set once the service shuts down: a child that dies then is not replaced.
        self._shutting_down = False
        self._restart_task: asyncio.Task[None] | None = None
        self._start_watch: asyncio.Task[None] | None = None
        self._failed_starts = 0
        # Why the last start ended before the child was ready; None once ready.
        self.start_failure: str | None = None
        self.ready_info: dict[str, Any] | None = None
        self.last_error: str | None = "runner child is starting"
        self.restarts = 0
        self.started_at: float | None = None
        # time.monotonic() at which the next child starts, or None while one runs.
        self._next_start_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def ready(self) -> bool:
        return self.ready_info is not None and self._conn is not None

    @property
    def failed_starts(self) -> int:
        """Return how many starts in a row ended before the child was ready."""
        return self._failed_starts

    @property
    def unavailable_reason(self) -> str | None:
        """Return why the engine cannot start, once it has failed often enough."""
        if self._failed_starts >= UNAVAILABLE_AFTER_FAILED_STARTS:
            return self.start_failure
        return None

    def restart_delay_s(self) -> float:
        """Return the wait before a restart, from the failed starts in a row.

        It is 0 after the death of a child that was ready, then 0.5, 1.5, 3.5,
        7.5 s and so on for each start in a row that ends before the child is
        ready, up to MAX_RESTART_DELAY_S.
        """
        return min(MAX_RESTART_DELAY_S, 0.5 * (2**self._failed_starts) - 0.5)

    def seconds_until_start(self) -> float | None:
        """Return the seconds until the next child starts, or None while one runs."""
        if self._next_start_at is None:
            return None
        return max(0.0, self._next_start_at - time.monotonic())

    async def start(self) -> None:
        """Spawn a fresh child; it reports ``ready`` once its model is loaded."""
        self._next_start_at = None
        loop = asyncio.get_running_loop()
        parent_conn, child_conn = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=protocol.child_entry,
            # The child logs a load failure's traceback on the first try only.
            args=(child_conn, {**self._child_settings, "failed_starts": self._failed_starts}),
            name="booknlp-runner",
            daemon=True,
        )
        await loop.run_in_executor(None, process.start)
        # Without closing the parent's copy of the child's end, the pipe would
        # never report end-of-file when the child dies.
        child_conn.close()
        self._process, self._conn = process, parent_conn
        self.ready_info = None
        self.last_error = "runner child is starting"
        if self.start_failure is not None:
            self.last_error = (
                f"runner child is starting again (try {self._failed_starts + 1}) "
                f"after: {self.start_failure}"
            )
        self.started_at = time.time()
        loop.add_reader(parent_conn.fileno(), self._read_messages)
        self._start_watch = asyncio.create_task(self._watch_start(process))
        log_event(logger, "child.started", pid=process.pid)

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        """Send one message to the child.

        Raises:
            RuntimeError: there is no live child to send to.
        """
        if self._conn is None:
            raise RuntimeError("no runner child is connected; wait for /v1/ready")
        try:
            self._conn.send((kind, payload))
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise RuntimeError(f"runner child pipe is closed: {exc}") from exc

    def kill(self, code: str, reason: str) -> None:
        """Kill the child at once with SIGKILL; its death is handled like any other.

        ``reason`` gives the cause, with the limit and the next step. child.died,
        /v1/ready and the engine_unavailable error report it in place of the
        generic cause of a SIGKILL. ``code`` is a short label, such as
        ``memory_limit``, passed on to ``on_exit``.
        """
        process = self._process
        if process is not None and process.is_alive():
            self._kill_request = (process, code, reason)
            log_event(
                logger, "child.kill", pid=process.pid, **self._job_field(),
                code=code, reason=reason,
            )  # fmt: skip
            process.kill()

    def _job_field(self) -> dict[str, str]:
        job_id = self._running_job_id()
        return {"job_id": job_id} if job_id else {}

    def begin_shutdown(self) -> None:
        """Start no new child from now on, because the service is shutting down."""
        self._shutting_down = True

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the child to exit, kill it after ``timeout_s``, and stop restarting."""
        self._stopping = True
        for task in (self._restart_task, self._start_watch):
            if task is not None:
                task.cancel()
        process = self._process
        if process is None:
            return
        try:
            self.send(protocol.STOP, {})
        except RuntimeError:
            pass
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, process.join, timeout_s)
        if process.is_alive():
            process.kill()
            await loop.run_in_executor(None, process.join, timeout_s)
        self._detach()
        log_event(logger, "child.stopped", pid=process.pid, exitcode=process.exitcode)

    def _read_messages(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            while conn.poll():
                kind, payload = conn.recv()
                self._handle(kind, payload)
                if self._conn is not conn:
                    return
        except (EOFError, OSError):
            self._child_gone()

    def _handle(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == protocol.READY:
            self.ready_info = payload
            self.last_error = None
            self.start_failure = None
            self._failed_starts = 0
            log_event(
                logger, "child.ready", pid=payload.get("pid"),
                engine=payload.get("engine"), device=payload.get("device"),
                load_s=round(time.time() - (self.started_at or time.time()), 2),
            )  # fmt: skip
        elif kind == protocol.DESCRIBED and self.ready_info is not None:
            self.ready_info = payload
        elif kind == protocol.FATAL:
            self.last_error = payload.get("message", "runner child failed to start")
            log_event(
                logger, "child.fatal", logging.ERROR, pid=self.pid,
                error=self.last_error, failed_starts=self._failed_starts + 1,
            )  # fmt: skip
        self._on_message(kind, payload)

    def _child_gone(self) -> None:
        process = self._process
        self._detach()
        if process is not None:
            loop = asyncio.get_running_loop()
            self._restart_task = loop.create_task(self._handle_death(process))

    async def _handle_death(self, process: BaseProcess) -> None:
        # The pipe closes a moment before the process can be reaped, so join it
        # in a thread rather than on the event loop.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, process.join, 5.0)
        if self._running_job_id() is not None:
            activity = RUNNING_JOB
        elif self.ready_info is None:
            activity = LOADING
        else:
            activity = IDLE
        request, self._kill_request = self._kill_request, None
        kill_code, kill_reason = None, None
        if (
            request is not None
            and request[0] is process
            and process.exitcode == -signal.SIGKILL
        ):
            _, kill_code, kill_reason = request
        was_ready = self.ready_info is not None
        failed_starts = 0 if was_ready else self._failed_starts + 1
        # The cause without "no job was lost", which the jobs that fail once the
        # engine counts as unavailable would contradict.
        failure = self._death_cause(process, activity, kill_reason, restart_note=False)
        if failed_starts >= UNAVAILABLE_AFTER_FAILED_STARTS:
            cause = (
                f"{failure.rstrip('.')}. The runner has now failed to start "
                f"{failed_starts} times in a row, so the waiting jobs fail and "
                "submissions get 503 until a child has loaded the engine; the "
                "service goes on starting new children"
            )
        else:
            cause = self._death_cause(
                process, activity, kill_reason, restart_note=not self._shutting_down
            )
        self.ready_info = None
        self.last_error = cause
        if not self._stopping:
            # A stop the front asked for is logged as child.stopped instead.
            log_event(
                logger, "child.died", logging.WARNING, pid=process.pid,
                **self._job_field(), cause=cause,
            )  # fmt: skip
            self._failed_starts = failed_starts
            self.start_failure = None if was_ready else failure
            # Set before on_exit, so that its messages can name the delay.
            delay_s = self.restart_delay_s()
            self._next_start_at = time.monotonic() + delay_s
        self._on_exit(cause, process.pid, kill_code)
        if self._stopping or self._shutting_down:
            return
        self.restarts += 1
        await self._restart_after(delay_s)

    def _death_cause(
        self,
        process: BaseProcess,
        activity: str,
        kill_reason: str | None,
        restart_note: bool,
    ) -> str:
        """Describe why ``process`` died.

        ``kill_reason`` is the front's reason when the front killed the child.
        """
        if kill_reason is not None:
            return f"the service killed the runner child: {kill_reason}"
        cause = describe_exit(process.exitcode, activity, restart_note)
        if self.last_error and self.ready_info is None and process.exitcode == 1:
            cause = f"{cause}: {self.last_error}"
        return cause

    async def _restart_after(self, delay_s: float) -> None:
        if delay_s > 0:
            log_event(logger, "child.restart_delayed", delay_s=round(delay_s, 1))
            await asyncio.sleep(delay_s)
        if not self._stopping:
            await self.start()

    async def _watch_start(self, process: BaseProcess) -> None:
        """Kill a child that has not loaded its model within the start timeout."""
        await asyncio.sleep(self._start_timeout_s)
        if self._process is process and self.ready_info is None:
            self.last_error = (
                f"runner child did not load its model within "
                f"{self._start_timeout_s:.0f} s; raise BOOKNLP_JOBS_CHILD_START_TIMEOUT_S"
            )
            self.kill(
                "start_timeout",
                f"it did not load its model within the limit of "
                f"{self._start_timeout_s:g} s (child_start_timeout_s); raise "
                "BOOKNLP_JOBS_CHILD_START_TIMEOUT_S if the model needs longer to "
                "load",
            )  # fmt: skip

    def _detach(self) -> None:
        if self._conn is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._conn.fileno())
            except (OSError, ValueError):
                pass
            self._conn.close()
        self._conn = None
        if self._start_watch is not None:
            self._start_watch.cancel()
            self._start_watch = None
