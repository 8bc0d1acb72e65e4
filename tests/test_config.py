"""Settings from flags and the environment, and their validation."""

from __future__ import annotations

import dataclasses
import errno
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.__main__ import listen_error
from server.config import Settings, load_settings
from tests.service_process import ROOT, ServiceProcess

FLOAT_SETTINGS = [
    field.name for field in dataclasses.fields(Settings) if field.type == "float"
]


def test_flags_override_environment() -> None:
    settings = load_settings(["--max-queue", "3"], {"BOOKNLP_JOBS_MAX_QUEUE": "5"})
    assert settings.max_queue == 3


def test_environment_overrides_default() -> None:
    settings = load_settings([], {"BOOKNLP_JOBS_RESULT_TTL_S": "60"})
    assert settings.result_ttl_s == 60.0


def test_path_settings_expand_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/reader")
    from_flags = load_settings(
        ["--state-dir", "~/state", "--api-keys-file", "~/keys"], {}
    )
    environment = {
        "BOOKNLP_JOBS_STATE_DIR": "~/state",
        "BOOKNLP_JOBS_API_KEYS_FILE": "~/keys",
    }
    from_environment = load_settings([], environment)
    for settings in (from_flags, from_environment):
        assert settings.state_dir == "/home/reader/state"
        assert settings.api_keys_file == "/home/reader/keys"
    assert load_settings(["--state-dir", ":memory:"], {}).state_dir == ":memory:"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--max-job-s", "nan"], "max_job_s must be a finite positive number"),
        (["--sync-timeout-s", "inf"], "sync_timeout_s must be a finite positive"),
        (["--max-queue", "0"], "max_queue must be a positive whole number"),
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


@pytest.mark.parametrize("name", FLOAT_SETTINGS)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1"])
def test_float_setting_must_be_finite_positive(name: str, value: str) -> None:
    flag = "--" + name.replace("_", "-")
    with pytest.raises(ValueError) as raised:
        load_settings([f"{flag}={value}"], {})
    message = str(raised.value)
    assert f"setting {name} must be a finite positive number" in message
    assert flag in message
    assert "such as the default" in message


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
                     id="unresolvable"),
        # What asyncio raises for an address that no interface has.
        pytest.param(OSError(errno.EADDRNOTAVAIL, "error while attempting to bind "
                             "on address: cannot assign requested address"),
                     id="not-local"),
    ],
)  # fmt: skip
def test_bad_host_named_with_fix(error: OSError) -> None:
    message = listen_error("256.1.1.1", 8000, error)
    assert "cannot listen on 256.1.1.1:8000" in message
    assert "host '256.1.1.1' is not an address of this machine" in message
    assert "Pass a valid local address with --host" in message
    assert "--port" not in message


def test_port_in_use_exits_2_before_child(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "BOOKNLP_JOBS_ENGINE": "test",
               "BOOKNLP_JOBS_STATE_DIR": str(tmp_path)}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "server", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Address already in use" in done.stderr
    assert f"another process listens on port {port} of 127.0.0.1" in done.stderr
    assert "choose another --port" in done.stderr
    assert "--host" not in done.stderr
    # The port is checked before the runner child loads its model.
    assert "event=child.started" not in done.stderr


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback address")
def test_ipv6_url_has_brackets(tmp_path: Path) -> None:
    log_path = tmp_path / "service.log"
    service = ServiceProcess(tmp_path / "state", log_path, host="::1")
    try:
        deadline = time.monotonic() + 120
        while "event=service.listening" not in log_path.read_text():
            assert service.process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the service never listened"
            time.sleep(0.05)
    finally:
        service.stop()
    assert f"url=http://[::1]:{service.port}" in log_path.read_text()
