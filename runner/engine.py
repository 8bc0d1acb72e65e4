"""The contract between the runner child and an analysis engine."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable


class JobCancelled(Exception):
    """Raised inside an engine when the front cancelled the job it is running."""


class JobInputError(ValueError):
    """Raised by an engine when the job's text or options cannot be analysed."""


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """One job, as passed to an engine.

    Attributes:
        job_id: the front's id, for logs.
        text_path: UTF-8 file holding the submitted text exactly as received.
        result_path: where the engine writes the result JSON (orjson).
        components: result sections to compute, a subset of the engine's.
        model: model name from the engine's catalogue entry.
        book_id: the client's label, copied into the result.
    """

    job_id: str
    text_path: str
    result_path: str
    components: tuple[str, ...]
    model: str
    book_id: str | None = None


class ProgressReporter:
    """Passes an engine's progress to the front and checks for cancellation.

    ``send`` posts a progress message; ``cancel_requested`` polls the pipe. Both are
    supplied by the child so that engines never touch the pipe themselves.
    Progress is a percentage over weighted stages: a stage of weight 3 moves the bar
    three times as far as a stage of weight 1.
    """

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        cancel_requested: Callable[[], bool],
        stage_weights: dict[str, float],
        tokens_total: int = 0,
    ) -> None:
        self._send = send
        self._cancel_requested = cancel_requested
        self._weights = stage_weights
        self._weight_total = sum(stage_weights.values()) or 1.0
        self.tokens_total = tokens_total
        self.tokens_done = 0

    def update(
        self, stage: str, fraction: float, tokens_done: int | None = None
    ) -> None:
        """Report that ``stage`` is ``fraction`` (0 to 1) done; raise if cancelled.

        Raises:
            JobCancelled: the front asked to cancel this job.
            KeyError: ``stage`` is not one of the weighted stages.
        """
        if self._cancel_requested():
            raise JobCancelled(stage)
        if tokens_done is not None:
            self.tokens_done = tokens_done
        finished = 0.0
        for name, weight in self._weights.items():
            if name == stage:
                finished += weight * min(max(fraction, 0.0), 1.0)
                break
            finished += weight
        else:
            raise KeyError(f"unknown stage {stage!r}; expected one of {list(self._weights)}")
        self._send(
            {
                "stage": stage,
                "progress": round(100.0 * finished / self._weight_total, 2),
                "tokens_done": self.tokens_done,
                "tokens_total": self.tokens_total,
            }
        )


class Engine(abc.ABC):
    """An analysis engine, loaded once per child and run on one job at a time."""

    name: str
    # Items per model batch, for engines that batch; the child halves it for one
    # retry when a job runs out of memory. None: the engine does not batch.
    batch_size: int | None = None

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Return the engine's description for ``/v1/ready``.

        Keys: ``engine``, ``components``, ``models``, ``device`` (``cpu`` or
        ``cuda``), ``cuda_device`` (the device name or None) and ``versions``.
        """

    @abc.abstractmethod
    def run(self, job: JobRequest, progress: ProgressReporter) -> dict[str, Any]:
        """Analyse ``job.text_path``, write the result to ``job.result_path``.

        Calls ``progress.update`` at least once per chunk, so that the progress
        moves and a cancel takes effect within one chunk.

        Returns:
            Small statistics for the front's log and status: at least ``tokens``.

        Raises:
            JobCancelled: from ``progress.update``, when the job was cancelled.
            JobInputError: the text cannot be analysed; the message explains why.
        """
