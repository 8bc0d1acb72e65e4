"""Kill and restart the whole service: no job is lost, duplicated or reordered."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.service_process import ServiceProcess, pid_alive

SLOW = "#test-engine chunks=400 delay_s=0.05\n"


def test_sigkill_and_restart_keeps_every_job(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = ServiceProcess(state, tmp_path / "service.log")
    try:
        first.wait_ready()
        done = first.submit("finished before the crash")
        first.wait_status(done, {"completed"})
        running = first.submit(SLOW + "interrupted book")
        waiting = [first.submit(f"waiting book {n}") for n in range(4)]
        first.wait_status(running, {"running"})
        child_pid = first.wait_ready()["child_pid"]
    finally:
        first.kill()

    # The orphaned child notices the front's death and exits by itself.
    deadline = time.monotonic() + 10
    while pid_alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(child_pid)

    second = ServiceProcess(state, tmp_path / "service.log")
    try:
        second.wait_ready()
        assert second.status(done)["status"] == "completed"
        status, result, _ = second.request("GET", f"/v1/jobs/{done}/result")
        assert status == 200
        assert result["tokens"][0]["word"] == "finished"
        # The interrupted job runs again first, then the waiting ones in order.
        listed = second.request("GET", "/v1/jobs")[1]["jobs"]
        assert [job["job_id"] for job in listed] == [done, running, *waiting]
        second.request("DELETE", f"/v1/jobs/{running}")
        finals = [second.wait_status(job, {"completed"}) for job in waiting]
        starts = [final["started_at"] for final in finals]
        assert starts == sorted(starts)
        assert second.status(running)["status"] == "cancelled"
    finally:
        second.stop()


def test_job_interrupted_twice_is_failed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for _ in range(2):
        service = ServiceProcess(state, tmp_path / "service.log")
        try:
            child_pid = service.wait_ready()["child_pid"]
            listed = service.request("GET", "/v1/jobs")[1]["jobs"]
            job = listed[0]["job_id"] if listed else service.submit(SLOW + "book")
            service.wait_status(job, {"running"})
        finally:
            service.kill()
    third = ServiceProcess(state, tmp_path / "third.log")
    try:
        third.wait_ready()
        failed = third.status(job)
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "interrupted"
        assert "2 times" in failed["error"]["message"]
    finally:
        third.stop()
    # The failure names the child that ran the job in the previous run.
    log = (tmp_path / "third.log").read_text()
    line = f"event=job.failed job_id={job} code=interrupted child_pid={child_pid} "
    assert line in log


def test_memory_state_forgets_jobs(tmp_path: Path) -> None:
    first = ServiceProcess(Path(":memory:"), tmp_path / "service.log")
    try:
        first.wait_ready()
        job = first.submit("kept in memory only")
        first.wait_status(job, {"completed"})
    finally:
        first.stop()
    second = ServiceProcess(Path(":memory:"), tmp_path / "service.log")
    try:
        second.wait_ready()
        assert second.request("GET", f"/v1/jobs/{job}")[0] == 404
    finally:
        second.stop()


def test_sigterm_lets_running_job_finish(tmp_path: Path) -> None:
    state = tmp_path / "state"
    service = ServiceProcess(state, tmp_path / "service.log", shutdown_grace_s=30)
    try:
        service.wait_ready()
        job = service.submit("#test-engine chunks=40 delay_s=0.05\nbook")
        service.wait_status(job, {"running"})
        service.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        status, body, headers = service.request("POST", "/v1/jobs", b"late book")
        assert status == 503
        assert body["error"]["code"] == "shutting_down"
        assert "Retry-After" in headers
        # No second signal: that would cut the grace period short.
        code = service.process.wait(timeout=60)
    finally:
        service.stop()
    assert code == 0
    again = ServiceProcess(state, tmp_path / "service.log")
    try:
        again.wait_ready()
        assert again.status(job)["status"] == "completed"
    finally:
        again.stop()


def test_sigint_past_grace_requeues_job(tmp_path: Path) -> None:
    state = tmp_path / "state"
    service = ServiceProcess(state, tmp_path / "service.log", shutdown_grace_s=0.3)
    try:
        service.wait_ready()
        job = service.submit("#test-engine chunks=60 delay_s=0.05\nlong book")
        service.wait_status(job, {"running"})
    finally:
        code = service.stop(signal.SIGINT)
    assert code == 0
    again = ServiceProcess(state, tmp_path / "service.log")
    try:
        again.wait_ready()
        done = again.wait_status(job, {"completed", "failed"})
        assert done["status"] == "completed"
    finally:
        again.stop()


def test_ready_is_503_during_shutdown(tmp_path: Path) -> None:
    state = tmp_path / "state"
    service = ServiceProcess(state, tmp_path / "service.log", shutdown_grace_s=60)
    try:
        service.wait_ready()
        job = service.submit("#test-engine chunks=600 delay_s=0.1\nbook")
        service.wait_status(job, {"running"})
        service.process.send_signal(signal.SIGTERM)
        # An empty body gets 400 until the shutdown begins, then 503.
        deadline = time.monotonic() + 30
        while service.request("POST", "/v1/jobs", b"")[0] != 503:
            assert time.monotonic() < deadline, "the shutdown did not begin"
            time.sleep(0.05)
        status, body, _ = service.request("GET", "/v1/ready")
    finally:
        # A second signal ends the grace period at once.
        code = service.stop(signal.SIGTERM)
    assert code == 0
    assert status == 503
    assert body["error"]["code"] == "not_ready"
    assert "shutting down" in body["error"]["message"]


def test_queue_full_names_jobs_waiting(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = ServiceProcess(state, tmp_path / "service.log", max_queue=6)
    try:
        first.wait_ready()
        running = first.submit("#test-engine chunks=600 delay_s=0.1\nslow book")
        first.wait_status(running, {"running"})
        for n in range(5):
            first.submit(f"waiting book {n}")
    finally:
        first.stop(signal.SIGKILL)

    # The restart with a lower limit keeps all 5 waiting jobs.
    second = ServiceProcess(state, tmp_path / "service.log", max_queue=2)
    try:
        second.wait_ready()
        second.wait_status(running, {"running"})
        status, body, headers = second.request("POST", "/v1/jobs", b"one more book")
        stats = second.request("GET", "/v1/jobs/stats")[1]
    finally:
        second.stop(signal.SIGKILL)

    error = body["error"]
    assert status == 503
    assert error["code"] == "queue_full"
    assert stats["queue"]["waiting"] == 5
    assert "5 jobs are already waiting" in error["message"]
    assert "at most 2 may wait (max_queue)" in error["message"]
    assert error["waiting"] == 5
    assert error["limit"] == 2
    assert "Retry-After" in headers

