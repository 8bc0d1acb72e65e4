"""Polling of a submitted job until it ends, with its progress on stderr."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Optional, TextIO, Union

from submit_errors import ConnectionFailed, DeadlineExceeded
from submit_http import Client, Deadline, JsonObject, job_path
from submit_responses import TERMINAL_STATUSES, check_job_status

# How long polling keeps retrying after a status request fails to connect or
# times out, counted from the start of the first failed request. It covers a short
# outage such as a restart under systemd (RestartSec=5 plus the start-up time).
RECONNECT_GRACE_S = 60.0
PROGRESS_BAR_WIDTH = 30


def format_tokens(job: JsonObject) -> str:
    done, total = job.get("tokens_done"), job.get("tokens_total")
    if done is None and not total:
        return ""
    if not total:
        return f"tokens {done}"
    return f"tokens {done or 0}/{total}"


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class TerminalProgress:
    """A progress bar on one terminal line, redrawn in place after each poll."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._drawn = False

    def update(self, job: JsonObject) -> None:
        elapsed = format_elapsed(time.monotonic() - self._started)
        if job.get("status") == "pending":
            position = job.get("queue_position")
            where = f", queue position {position}" if position is not None else ""
            line = f"pending{where}  {elapsed}"
        else:
            percent = float(job.get("progress") or 0.0)
            clamped = min(max(percent, 0.0), 100.0)
            filled = round(PROGRESS_BAR_WIDTH * clamped / 100.0)
            bar = "#" * filled + "-" * (PROGRESS_BAR_WIDTH - filled)
            parts = [
                f"[{bar}] {percent:5.1f}%",
                job.get("stage") or "",
                format_tokens(job),
            ]
            line = "  ".join(part for part in parts + [elapsed] if part)
        width = shutil.get_terminal_size().columns
        # Writing into the last column makes some terminals wrap, so stop one short.
        self._stream.write("\r" + line[: width - 1] + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def note(self, text: str) -> None:
        """Print a message on its own line; the next update redraws the bar."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._drawn = False
        print(text, file=self._stream)

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


class LineProgress:
    """Plain progress lines for logs and pipes.

    A line is printed only when the status, the stage, the queue position or the
    whole percentage changes, so a long job writes at most a few hundred lines.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last: Optional[tuple] = None

    def update(self, job: JsonObject) -> None:
        status = job.get("status")
        if status == "pending":
            position = job.get("queue_position")
            key: tuple = (status, position)
            line = "pending" + (
                f" queue position {position}" if position is not None else ""
            )
        else:
            percent = int(float(job.get("progress") or 0.0))
            stage = job.get("stage") or ""
            key = (status, percent, stage)
            parts = [
                f"progress {percent}%",
                f"stage {stage}" if stage else "",
                format_tokens(job),
            ]
            line = " ".join(part for part in parts if part)
        if key != self._last:
            self._last = key
            print(line, file=self._stream, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def close(self) -> None:
        pass


ProgressDisplay = Union[TerminalProgress, LineProgress]


def wait_for_job(
    client: Client,
    job_id: str,
    interval: float,
    deadline: Deadline,
    display: ProgressDisplay,
) -> JsonObject:
    """Poll the job until it reaches a terminal status and return its last state.

    Connection failures and timed-out requests are retried for
    RECONNECT_GRACE_S, so that a service restart does not end the wait. HTTP
    errors end it at once.
    """
    path = job_path(job_id)
    failing_since: Optional[float] = None
    while True:
        request_started = time.monotonic()
        try:
            job = client.get_json(path)
        except DeadlineExceeded:
            break
        except ConnectionFailed as err:
            if failing_since is None:
                failing_since = request_started
                display.note(f"{err}; retrying for up to {RECONNECT_GRACE_S:g} s")
            if time.monotonic() - failing_since > RECONNECT_GRACE_S:
                # The same class keeps the exit status of a timeout.
                raise type(err)(
                    f"{err}. Gave up after retrying for {RECONNECT_GRACE_S:g} s, "
                    f"and job {job_id} may still be running on the server"
                ) from None
        else:
            if failing_since is not None:
                display.note("connection to the server restored")
                failing_since = None
            check_job_status(job, client.url(path))
            display.update(job)
            if job["status"] in TERMINAL_STATUSES:
                return job
        if deadline.expired():
            break
        deadline.sleep(interval)
    raise DeadlineExceeded(
        f"job {job_id} did not finish within --timeout {deadline.timeout_s:g} s"
    )


def wait_with_progress(
    client: Client, job_id: str, interval: float, deadline: Deadline
) -> JsonObject:
    """Run wait_for_job with a progress bar on a terminal, else with plain lines."""
    stream = sys.stderr
    display: ProgressDisplay
    if stream.isatty():
        display = TerminalProgress(stream)
    else:
        display = LineProgress(stream)
    try:
        return wait_for_job(client, job_id, interval, deadline, display)
    finally:
        # Ends the progress bar's line, so later messages start on their own.
        display.close()
