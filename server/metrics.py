"""Prometheus metrics for ``GET /metrics``.

Each application gets its own registry, so that several apps in one process
(as in the tests) do not collide in prometheus_client's global one.
"""

from __future__ import annotations

import re

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Books take seconds to hours, so the buckets reach far past the defaults.
DURATION_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)


def restart_cause(message: str, code: str | None) -> str:
    """Reduce a child's cause of death to a label with few values."""
    if code in ("memory_limit", "time_limit", "cancel_timeout", "start_timeout"):
        return code
    signal_name = re.search(r"killed by (SIG[A-Z]+)", message)
    if signal_name:
        return signal_name.group(1).lower()
    exit_code = re.search(r"exited with code (-?\d+)", message)
    if exit_code:
        return f"exit_{exit_code.group(1)}"
    return "other"


class ServiceMetrics:
    """The counters and gauges the scheduler updates, in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs_submitted = Counter(
            "booknlp_jobs_submitted_total", "Jobs accepted into the queue",
            registry=self.registry,
        )  # fmt: skip
        self.jobs_finished = Counter(
            "booknlp_jobs_finished_total", "Jobs that ended, by outcome",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "booknlp_job_duration_seconds",
            "Run time of finished jobs, from start to end, by outcome",
            ["outcome"], buckets=DURATION_BUCKETS_S, registry=self.registry,
        )  # fmt: skip
        self.tokens = Counter(
            "booknlp_tokens_processed_total", "Tokens in completed jobs",
            registry=self.registry,
        )  # fmt: skip
        self.child_restarts = Counter(
            "booknlp_child_restarts_total", "Runner child deaths, by cause",
            ["cause"], registry=self.registry,
        )  # fmt: skip
        self.queue_waiting = Gauge(
            "booknlp_queue_waiting", "Jobs waiting in the FIFO", registry=self.registry
        )
        self.queue_running = Gauge(
            "booknlp_queue_running", "Jobs running (0 or 1)", registry=self.registry
        )
        self.child_memory = Gauge(
            "booknlp_child_memory_bytes", "Resident memory of the runner child",
            registry=self.registry,
        )  # fmt: skip
        self.child_peak_memory = Gauge(
            "booknlp_child_peak_memory_bytes",
            "Peak resident memory of the runner child during the current or last job",
            registry=self.registry,
        )  # fmt: skip
        self.child_ready = Gauge(
            "booknlp_child_ready", "1 when the runner child has loaded its model",
            registry=self.registry,
        )  # fmt: skip

    def render(self) -> bytes:
        """Return the registry in Prometheus's text exposition format."""
        return bytes(generate_latest(self.registry))
