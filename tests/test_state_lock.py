"""One server per state folder, and result files that vanish within their TTL."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.conftest import ClientFactory, submit_text, wait_status
from tests.service_process import ServiceProcess

SLOW = "#test-engine chunks=100 delay_s=0.05\n"


def test_second_server_on_state_dir_exits_2(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = ServiceProcess(state, tmp_path / "first.log")
    second = None
    try:
        first.wait_ready()
        done = first.submit("finished before the second server")
        first.wait_status(done, {"completed"})
        running = first.submit(SLOW + "book running meanwhile")
        first.wait_status(running, {"running"})

        second = ServiceProcess(state, tmp_path / "second.log")
        code = second.process.wait(timeout=120)
        second.log.close()
        log = (tmp_path / "second.log").read_text()

        assert code == 2
        assert f"state folder {state} is in use" in log
        assert f"pid {first.process.pid}" in log
        assert "--state-dir" in log
        assert "event=child.started" not in log
        # The first server keeps its jobs and their files.
        status, result, _ = first.request("GET", f"/v1/jobs/{done}/result")
        assert status == 200
        assert result["tokens"][0]["word"] == "finished"
        assert first.wait_status(running, {"completed", "failed"})["status"] == (
            "completed"
        )
    finally:
        if second is not None and second.process.poll() is None:
            second.kill()
        first.stop()


async def test_missing_result_file_not_expired(
    make_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    job = await submit_text(client, "a short book")
    await wait_status(client, job["job_id"], {"completed"})
    os.remove(tmp_path / "results" / f"{job['job_id']}.json")

    for path in ("result", "booknlp.zip"):
        response = await client.get(f"/v1/jobs/{job['job_id']}/{path}")
        error = (await response.json())["error"]
        assert response.status == 404, path
        assert error["code"] == "result_missing", path
        assert "result file" in error["message"], path
        assert "is missing" in error["message"], path
        assert "Submit the book again" in error["message"], path
        assert "expired" not in error["message"], path
    lines = [record.getMessage() for record in caplog.records]
    assert f"event=job.result_missing job_id={job['job_id']}" in " ".join(lines)
