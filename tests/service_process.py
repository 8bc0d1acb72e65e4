"""Run ``python -m server`` as a real process for tests that kill or restart it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """One service process on a loopback port with its own state folder."""

    def __init__(self, state_dir: Path, log_path: Path, **settings: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({"BOOKNLP_JOBS_ENGINE": "test", "BOOKNLP_JOBS_STATE_DIR": str(state_dir)})
        env.update({f"BOOKNLP_JOBS_{k.upper()}": str(v) for k, v in settings.items()})
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def request(
        self, method: str, path: str, body: bytes | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
        request = urllib.request.Request(
            self.url + path, data=body, method=method,
            headers={"Content-Type": content_type} if body is not None else {},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error), dict(error.headers)

    def submit(self, text: str) -> str:
        status, body, _ = self.request("POST", "/v1/jobs", text.encode("utf-8"))
        assert status == 202, body
        return str(body["job_id"])

    def status(self, job_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/v1/jobs/{job_id}")[1])

    def wait_ready(self, timeout_s: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "service exited while starting"
            try:
                status, body, _ = self.request("GET", "/v1/ready")
                if status == 200:
                    return dict(body)
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"service on {self.url} not ready in {timeout_s} s")

    def wait_status(
        self, job_id: str, wanted: set[str], timeout_s: float = 60.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.status(job_id)
            if body.get("status") in wanted:
                return body
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} never reached {wanted}; last {body}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        finally:
            self.log.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie process still accepts signal 0, so check its state.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
