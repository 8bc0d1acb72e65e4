"""Settings from flags and the environment, and their validation."""

from __future__ import annotations

import pytest

from server.config import load_settings


def test_flags_override_environment() -> None:
    settings = load_settings(["--max-queue", "3"], {"BOOKNLP_JOBS_MAX_QUEUE": "5"})
    assert settings.max_queue == 3


def test_environment_overrides_default() -> None:
    settings = load_settings([], {"BOOKNLP_JOBS_RESULT_TTL_S": "60"})
    assert settings.result_ttl_s == 60.0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--max-job-s", "nan"], "max_job_s must be positive"),
        (["--sync-timeout-s", "inf"], "sync_timeout_s must be positive"),
        (["--port", "99999"], "at most 65535"),
        (["--port", "http"], "not a valid int"),
        (["--log-level", "LOUD"], "log_level 'LOUD' is unknown"),
        (["--engine", "bert"], "engine 'bert' is unknown"),
        (["--protect-status", "maybe"], "not a valid bool"),
        (["--max-child-memory-mb", "-1"], "0 (automatic) or positive"),
    ],
)
def test_invalid_setting_named(argv: list[str], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_settings(argv, {})
