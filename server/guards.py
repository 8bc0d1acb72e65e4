"""Watch the runner child's memory from the front, with psutil.

The kernel's OOM killer would pick the child too, but only once the whole
machine is short of memory, and its SIGKILL carries no reason. This guard stops
the child at a configured limit and names the limit and the peak in the job's
error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

import psutil

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
# Share of physical memory the child may use when no limit is configured.
DEFAULT_MEMORY_SHARE = 0.8


def memory_limit_mb(configured_mb: int) -> int:
    """Return the configured limit, or 80 % of physical memory for 0."""
    if configured_mb > 0:
        return configured_mb
    return int(psutil.virtual_memory().total * DEFAULT_MEMORY_SHARE / MIB)


def resident_mb(pid: int) -> float:
    """Return the RSS of ``pid`` and its descendants in MiB, 0 if it is gone."""
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        return 0.0
    return total / MIB


class MemoryGuard:
    """Sample the child's memory; call ``on_over_limit`` when it passes the limit.

    ``peak_mb`` is the highest sample of the current child since ``reset_peak``.
    The scheduler resets it at the start of each job, so that a job's error
    names its own peak. Samples of an earlier child, which may have been killed
    for its memory, never count towards a new child's peak.
    """

    def __init__(
        self,
        pid_source: Callable[[], int | None],
        limit_mb: int,
        interval_s: float,
        on_over_limit: Callable[[float, float], None],
    ) -> None:
        self._pid_source = pid_source
        self.limit_mb = limit_mb
        self._interval_s = interval_s
        self._on_over_limit = on_over_limit
        self.current_mb = 0.0
        self.peak_mb = 0.0
        # The child that current_mb was sampled from.
        self._sampled_pid: int | None = None

    def reset_peak(self) -> None:
        """Start the peak from the current child's last sample, or 0 without one."""
        if self._sampled_pid is None or self._sampled_pid != self._pid_source():
            self.current_mb = self.peak_mb = 0.0
        else:
            self.peak_mb = self.current_mb

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._interval_s)
            pid = self._pid_source()
            if pid is None:
                continue
            # psutil reads /proc; cheap, but off the loop all the same.
            current_mb = await loop.run_in_executor(None, resident_mb, pid)
            if pid != self._sampled_pid:
                # A new child: its peak starts from its own samples.
                self._sampled_pid = pid
                self.peak_mb = 0.0
            self.current_mb = current_mb
            self.peak_mb = max(self.peak_mb, self.current_mb)
            if self.current_mb > self.limit_mb:
                self._on_over_limit(self.current_mb, self.peak_mb)
