"""Validation of the job status responses that submit.py reads."""

from __future__ import annotations

import math
from typing import Any, Optional

from submit_errors import CliError
from submit_http import JsonObject

TERMINAL_STATUSES = ("completed", "failed", "cancelled")
JOB_STATUSES = ("pending", "running") + TERMINAL_STATUSES


def check_job_status(job: JsonObject, url: str) -> None:
    """Raise CliError when a field that the script reads has an invalid value."""
    problem = find_job_status_problem(job)
    if problem:
        raise CliError(
            f"invalid response from {url}: {problem}; check that --server points "
            "to a booknlp-jobs server"
        )


def find_job_status_problem(job: JsonObject) -> Optional[str]:
    """Describe the first invalid field of a job status response, or return None."""
    status = job.get("status")
    if status not in JOB_STATUSES:
        return f"status {short_repr(status)} is not one of {', '.join(JOB_STATUSES)}"
    progress = job.get("progress")
    if progress is not None and not is_finite_number(progress):
        return f"progress {short_repr(progress)} is not a number"
    for name in ("queue_position", "tokens_done", "tokens_total"):
        value = job.get(name)
        if value is not None and not is_integer(value):
            return f"{name} {short_repr(value)} is not an integer"
    stage = job.get("stage")
    if stage is not None and not isinstance(stage, str):
        return f"stage {short_repr(stage)} is not a string"
    error = job.get("error")
    if error is None:
        return None
    if not isinstance(error, dict):
        return f"error {short_repr(error)} is not an object"
    for name in ("code", "message"):
        value = error.get(name)
        if value is not None and not isinstance(value, str):
            return f"error.{name} {short_repr(value)} is not a string"
    return None


def is_integer(value: Any) -> bool:
    # bool is a subclass of int, but JSON true is not a number.
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """Return whether ``value`` is a JSON number that converts to a finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        # An int of more than about 308 digits.
        return False


def short_repr(value: Any, limit: int = 80) -> str:
    """Return ``repr(value)``, cut to ``limit`` characters for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
