"""Faults in the runner child: kills, crashes and errors cost one job at most."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from server.config import Settings
from server.guards import MemoryGuard
from server.keys import SCHEDULER
from server.jobs import JobTable
from server.scheduler import JobScheduler
from server.store import JobStore
from tests.conftest import ClientFactory, submit_text, wait_ready, wait_status


async def test_kill_9_mid_job_fails_only_that_job(make_client: ClientFactory) -> None:
    client = await make_client()
    first_pid = (await wait_ready(client))["child_pid"]
    job = await submit_text(client, "#test-engine chunks=200 delay_s=0.05\nbook")
    queued = await submit_text(client, "the next book")
    body = await wait_status(client, job["job_id"], {"running"})
    while body["progress"] == 0:
        body = await (await client.get(f"/v1/jobs/{job['job_id']}")).json()
    os.kill(first_pid, signal.SIGKILL)

    failed = await wait_status(client, job["job_id"], {"failed"})
    assert failed["error"]["code"] == "child_died"
    assert "SIGKILL" in failed["error"]["message"]
    assert "too much memory" in failed["error"]["message"]
    await wait_status(client, queued["job_id"], {"completed"}, 60.0)
    second_pid = (await wait_ready(client))["child_pid"]
    assert second_pid != first_pid
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["child"]["restarts"] == 1


async def test_engine_self_kill_reported_as_signal(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "#test-engine chunks=5 kill_at=2\nbook")
    failed = await wait_status(client, job["job_id"], {"failed"})
    assert "SIGKILL" in failed["error"]["message"]


@pytest.mark.parametrize(
    ("directive", "code", "text"),
    [
        ("raise_at=1", "engine_error", "RuntimeError: scripted failure at chunk 1"),
        ("memory_error_at=1", "memory_error", "ran out of memory"),
        ("exit_at=1", "engine_error", "sys.exit(3)"),
    ],
)
async def test_engine_error_keeps_child_alive(
    make_client: ClientFactory, directive: str, code: str, text: str
) -> None:
    client = await make_client()
    pid = (await wait_ready(client))["child_pid"]
    job = await submit_text(client, f"#test-engine chunks=3 {directive}\nbook")
    failed = await wait_status(client, job["job_id"], {"failed"})
    assert failed["error"]["code"] == code
    assert text in failed["error"]["message"]
    if code == "engine_error":
        assert "--log-level DEBUG to log the traceback" in failed["error"]["message"]
    follow = await submit_text(client, "still works")
    await wait_status(client, follow["job_id"], {"completed"})
    assert (await wait_ready(client))["child_pid"] == pid


async def test_lifecycle_events_are_logged(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    pid = (await wait_ready(client))["child_pid"]
    done = await submit_text(client, "fine")
    await wait_status(client, done["job_id"], {"completed"})
    killed = await submit_text(client, "#test-engine chunks=3 kill_at=1\nbook")
    await wait_status(client, killed["job_id"], {"failed"})
    await wait_ready(client)

    lines = [record.getMessage() for record in caplog.records]
    assert f"event=child.started pid={pid}" in lines
    assert f"event=job.submitted job_id={done['job_id']}" in " ".join(lines)
    assert any(
        line.startswith(f"event=job.completed job_id={done['job_id']} tokens=1 ")
        and "tokens_per_s=" in line
        for line in lines
    )
    assert any(
        line.startswith(
            f"event=job.failed job_id={killed['job_id']} code=child_died "
            f"child_pid={pid} "
        )
        for line in lines
    )
    assert any(
        line.startswith(f"event=child.died pid={pid} job_id={killed['job_id']} ")
        for line in lines
    )


async def test_memory_retry_with_half_batch(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "#test-engine chunks=2 memory_error_batch_over=40\nb")
    done = await wait_status(client, job["job_id"], {"completed", "failed"})
    assert done["status"] == "completed"
    assert "succeeded with batch size 32" in done["stats"]["memory_retry"]
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert result["run"]["batch_size"] == 32
    follow = await submit_text(client, "#test-engine chunks=1\nnext")
    await wait_status(client, follow["job_id"], {"completed"})
    result = await (await client.get(f"/v1/jobs/{follow['job_id']}/result")).json()
    assert result["run"]["batch_size"] == 64


def _event_line(caplog: pytest.LogCaptureFixture, start: str) -> str:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]
    assert len(lines) == 1, (start, lines)
    return lines[0]


async def test_memory_limit_stops_child(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client(max_child_memory_mb=150, memory_poll_s=0.05)
    pid = (await wait_ready(client))["child_pid"]
    job = await submit_text(
        client, "#test-engine allocate_mb=300 chunks=100 delay_s=0.05\nbig"
    )
    failed = await wait_status(client, job["job_id"], {"failed", "completed"})
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "memory_limit"
    assert "over the limit of 150 MiB" in failed["error"]["message"]
    assert "peak" in failed["error"]["message"]
    follow = await submit_text(client, "small book")
    done = await wait_status(client, follow["job_id"], {"completed"}, 60.0)
    assert (await wait_ready(client))["child_pid"] != pid
    # The killed child's peak is not the next child's.
    assert done["stats"]["peak_child_mb"] < 150

    died = _event_line(caplog, f"event=child.died pid={pid} job_id={job['job_id']} ")
    assert "the service killed the runner child" in died
    assert "over the limit of 150 MiB (max_child_memory_mb)" in died
    assert "BOOKNLP_JOBS_MAX_CHILD_MEMORY_MB" in died
    assert "kernel" not in died
    failed_line = _event_line(caplog, f"event=job.failed job_id={job['job_id']} ")
    assert f"code=memory_limit child_pid={pid} " in failed_line


async def test_time_limit_stops_job(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client(max_job_s=0.5)
    pid = (await wait_ready(client))["child_pid"]
    job = await submit_text(client, "#test-engine chunks=100 delay_s=0.05\nlong")
    failed = await wait_status(client, job["job_id"], {"failed", "completed"})
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "time_limit"
    assert "limit of 0.5 s" in failed["error"]["message"]
    follow = await submit_text(client, "quick one")
    await wait_status(client, follow["job_id"], {"completed"}, 60.0)

    died = _event_line(caplog, f"event=child.died pid={pid} job_id={job['job_id']} ")
    assert "the service killed the runner child" in died
    assert "longer than the limit of 0.5 s (max_job_s)" in died
    assert "BOOKNLP_JOBS_MAX_JOB_S" in died
    assert "kernel" not in died


async def test_start_timeout_named_as_cause(make_client: ClientFactory) -> None:
    # No child loads its engine within a millisecond, so every start fails.
    client = await make_client(child_start_timeout_s=0.001, wait=False)
    waiting = await submit_text(client, "a book")
    failed = await wait_status(client, waiting["job_id"], {"failed"}, 60.0)
    assert failed["error"]["code"] == "engine_unavailable"
    assert "child_start_timeout_s" in failed["error"]["message"]
    response = await client.post("/v1/jobs", json={"text": "another book"})
    error = (await response.json())["error"]
    assert response.status == 503
    assert error["code"] == "engine_unavailable"
    assert "the service killed the runner child" in error["message"]
    assert "within the limit of 0.001 s (child_start_timeout_s)" in error["message"]
    assert "BOOKNLP_JOBS_CHILD_START_TIMEOUT_S" in error["message"]
    assert "kernel" not in error["message"]
    ready = await client.get("/v1/ready")
    assert ready.status == 503
    assert "child_start_timeout_s" in (await ready.json())["error"]["message"]


def _child_process(code: str) -> subprocess.Popen[str]:
    """Start a Python process that runs ``code``, prints a line, and waits."""
    script = f"import sys\n{code}\nprint('ready', flush=True)\nsys.stdin.read()"
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    return process


async def test_memory_peak_starts_per_child() -> None:
    big = _child_process("data = b'x' * (300 << 20)")
    small = _child_process("")
    pids = [big.pid]
    guard = MemoryGuard(lambda: pids[0], 100_000, 0.01, lambda used, peak: None)
    task = asyncio.create_task(guard.run())
    try:
        while guard.current_mb < 250:
            await asyncio.sleep(0.01)
        # The big child is replaced, and a job starts before the guard has
        # sampled the new one.
        pids[0] = small.pid
        guard.reset_peak()
        assert guard.peak_mb < 250
        while guard.current_mb == 0 or guard.current_mb > 250:
            await asyncio.sleep(0.01)
        assert guard.peak_mb < 250
    finally:
        task.cancel()
        for process in (big, small):
            process.kill()
            process.communicate()


@pytest.mark.parametrize(
    ("used_mb", "words"),
    [(680.3, "used 680 MiB (peak 680 MiB), reaching the limit of 680 MiB"),
     (700.0, "used 700 MiB (peak 700 MiB), over the limit of 680 MiB")],
)  # fmt: skip
async def test_memory_message_compares_rounded(
    tmp_path, used_mb: float, words: str
) -> None:
    settings = Settings(engine="test", state_dir=str(tmp_path), max_child_memory_mb=680)
    scheduler = JobScheduler(settings, JobTable(str(tmp_path), 60.0, JobStore()))
    # No child runs, so the kill is only recorded.
    scheduler._memory_over_limit(used_mb, used_mb)
    message = scheduler._kill_cause["message"]
    assert words in message
    assert "while loading its engine" in message


async def test_unloadable_engine_fails_waiting_jobs(
    make_client: ClientFactory,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    flag = tmp_path / "broken"
    flag.write_text("the engine fails to load while this file exists")
    monkeypatch.setenv("BOOKNLP_JOBS_TEST_ENGINE_FAIL_WHILE", str(flag))
    client = await make_client(wait=False)
    waiting = await submit_text(client, "a book")

    # The waiting job fails once the engine has failed to start several times.
    failed = await wait_status(client, waiting["job_id"], {"failed"}, 60.0)
    assert failed["error"]["code"] == "engine_unavailable"
    assert "scripted load failure" in failed["error"]["message"]
    rejected = await client.post("/v1/jobs", json={"text": "another book"})
    body = await rejected.json()
    assert rejected.status == 503
    assert body["error"]["code"] == "engine_unavailable"
    # Three failed starts in a row: the next start comes at most 3.5 s later.
    assert 1 <= int(rejected.headers["Retry-After"]) <= 4
    assert "every 30 s" not in body["error"]["message"]
    ready = await (await client.get("/v1/ready")).json()
    assert "scripted load failure" in ready["error"]["message"]
    died = _died_causes(caplog)
    assert "failed to start" not in died[1]
    assert "failed to start 3 times in a row" in died[2]
    assert "so the waiting jobs fail" in died[2]

    # Fixing the cause brings the service back without a restart by hand.
    flag.unlink()
    await wait_ready(client, timeout_s=90.0)
    job = await submit_text(client, "a book at last")
    await wait_status(client, job["job_id"], {"completed"})


async def test_kill_while_loading_named_in_ready(make_client: ClientFactory) -> None:
    # The spaCy engine takes seconds to load, so the child is still loading
    # when the test kills it.
    client = await make_client(engine="spacy", wait=False)
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["child"]["ready"] is False
    os.kill(stats["child"]["pid"], signal.SIGKILL)

    message = ""
    deadline = time.monotonic() + 60
    while "SIGKILL" not in message:
        assert time.monotonic() < deadline, f"no SIGKILL in /v1/ready: {message}"
        response = await client.get("/v1/ready")
        if response.status == 503:
            message = (await response.json())["error"]["message"]
        await asyncio.sleep(0.05)
    assert "while it loaded its model, with no job running" in message
    assert "no job was lost" in message
    assert "Resubmit" not in message
    assert "split" not in message


async def test_kill_while_idle_logged_without_job(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    pid = (await wait_ready(client))["child_pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while (await (await client.get("/v1/jobs/stats")).json())["child"]["restarts"] < 1:
        assert time.monotonic() < deadline, "the killed child was not restarted"
        await asyncio.sleep(0.05)

    died = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith(f"event=child.died pid={pid} ")
    ]
    assert len(died) == 1
    assert "with no job running" in died[0]
    assert "no job was lost" in died[0]
    assert "Resubmit" not in died[0]


def _died_causes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("event=child.died ")
    ]


async def test_kills_while_loading_fail_waiting_jobs(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # The spaCy engine takes seconds to load, so each child is still loading
    # when the test kills it.
    client = await make_client(engine="spacy", wait=False)
    waiting = await submit_text(client, "a book")
    killed: set[int] = set()
    deadline = time.monotonic() + 120
    while len(killed) < 3:
        assert time.monotonic() < deadline, f"killed only {len(killed)} children"
        child = (await (await client.get("/v1/jobs/stats")).json())["child"]
        if child["pid"] not in killed and not child["ready"]:
            os.kill(child["pid"], signal.SIGKILL)
            killed.add(child["pid"])
        await asyncio.sleep(0.05)

    failed = await wait_status(client, waiting["job_id"], {"failed"}, 60.0)
    message = failed["error"]["message"]
    assert failed["error"]["code"] == "engine_unavailable"
    assert "killed by SIGKILL while it loaded its model" in message
    assert "no job was lost" not in message
    assert "failed all jobs that were waiting: this job" in message
    assert "3 times in a row" in message
    rejected = await client.post("/v1/jobs", json={"text": "another book"})
    error = (await rejected.json())["error"]
    assert rejected.status == 503
    assert error["code"] == "engine_unavailable"
    assert "no job was lost" not in error["message"]
    assert "every 30 s" not in error["message"]
    # The third failed start in a row delays the next one by 3.5 s.
    assert 1 <= int(rejected.headers["Retry-After"]) <= 4
    died = _died_causes(caplog)
    assert len(died) >= 3
    assert "no job was lost" in died[1]
    assert "no job was lost" not in died[2]
    assert "failed to start 3 times in a row" in died[2]
    assert "so the waiting jobs fail" in died[2]


async def test_child_death_in_shutdown_not_replaced(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    pid = (await wait_ready(client))["child_pid"]
    scheduler = client.server.app[SCHEDULER]
    # What SIGTERM starts: no job runs, so the drain ends at once.
    await scheduler.drain(1.0)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while not _died_causes(caplog):
        assert time.monotonic() < deadline, "the child's death was not noticed"
        await asyncio.sleep(0.05)
    await scheduler.supervisor._restart_task

    started = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("event=child.started ")
    ]
    assert started == [f"event=child.started pid={pid}"]
    died = _died_causes(caplog)
    assert len(died) == 1
    assert "starts a new child" not in died[0]
