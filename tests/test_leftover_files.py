"""Spool and .part files of a job whose child was killed are deleted."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from runner import child
from runner.analysis.result_writer import TokenSpool
from runner.engine import Engine, JobRequest, ProgressReporter
from tests.conftest import ClientFactory, submit_text, wait_ready, wait_status
from tests.service_process import ServiceProcess

# One chunk that sleeps far longer than any test, so the job stays running
# until the test kills its child.
HUNG = "#test-engine chunks=1 delay_s=600\n"


async def wait_hung(client: TestClient, job_id: str) -> None:
    """Wait until the child has reported progress and sleeps in the chunk.

    The child checks for a cancel just before it reports progress, and not
    again until the chunk ends.
    """
    body = await wait_status(client, job_id, {"running"})
    while body["progress"] == 0:
        body = await (await client.get(f"/v1/jobs/{job_id}")).json()


def plant_leftovers(results: Path, job_id: str) -> list[Path]:
    """Write the files that a job killed mid-run leaves in the results folder.

    The scripted engine writes no spool, so the test writes what the spaCy and
    BookNLP engines would have. That is a token spool named after the job, a
    spool without a job id (as older versions name them), half-written results
    and a BookNLP work folder.
    """
    paths = [
        results / f"tokens-{job_id}-k2j4x9.jsonl",
        results / "tokens-q8w1zz.jsonl",
        results / f"{job_id}.json.part",
        results / f"{job_id}.booknlp.zip.part",
    ]
    for path in paths:
        path.write_bytes(b'{"token_id": 0}')
    work = results / f"{job_id}.booknlp-a1b2c3"
    (work / "output").mkdir(parents=True)
    (work / "output" / f"{job_id}.tokens").write_text("token rows\n")
    return [*paths, work]


async def test_kill_9_removes_job_leftovers(
    make_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="server")
    client = await make_client()
    pid = (await wait_ready(client))["child_pid"]
    job_id = (await submit_text(client, HUNG + "book"))["job_id"]
    await wait_status(client, job_id, {"running"})
    leftovers = plant_leftovers(tmp_path / "results", job_id)
    os.kill(pid, signal.SIGKILL)

    failed = await wait_status(client, job_id, {"failed"})
    assert failed["error"]["code"] == "child_died"
    assert [path.name for path in leftovers if path.exists()] == []
    lines = [
        record.getMessage()
        for record in caplog.records
        if "event=job.leftovers_removed" in record.getMessage()
    ]
    assert len(lines) == 1, lines
    assert f"job_id={job_id}" in lines[0]
    assert "reason=child_died" in lines[0]
    assert "files=5" in lines[0]


async def test_cancel_kill_removes_job_leftovers(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = await make_client(cancel_grace_s=0.2)
    job_id = (await submit_text(client, HUNG + "book"))["job_id"]
    await wait_hung(client, job_id)
    leftovers = plant_leftovers(tmp_path / "results", job_id)
    response = await client.delete(f"/v1/jobs/{job_id}")
    assert response.status == 202

    await wait_status(client, job_id, {"cancelled"})
    assert [path.name for path in leftovers if path.exists()] == []
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["child"]["restarts"] == 1


async def test_child_death_keeps_finished_results(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = await make_client()
    done = (await submit_text(client, "finished book"))["job_id"]
    await wait_status(client, done, {"completed"})
    pid = (await wait_ready(client))["child_pid"]
    job_id = (await submit_text(client, HUNG + "book"))["job_id"]
    await wait_status(client, job_id, {"running"})
    plant_leftovers(tmp_path / "results", job_id)
    os.kill(pid, signal.SIGKILL)

    await wait_status(client, job_id, {"failed"})
    response = await client.get(f"/v1/jobs/{done}/result")
    assert response.status == 200
    assert (await response.json())["tokens"][0]["word"] == "finished"


def test_service_start_removes_leftovers(tmp_path: Path) -> None:
    state = tmp_path / "state"
    log_path = tmp_path / "service.log"
    first = ServiceProcess(state, log_path)
    try:
        first.wait_ready()
        done = first.submit("finished before the restart")
        first.wait_status(done, {"completed"})
    finally:
        first.kill()
    dead_job = "0123456789abcdef" * 2
    leftovers = plant_leftovers(state / "results", dead_job)

    second = ServiceProcess(state, log_path)
    try:
        second.wait_ready()
        remaining = [path.name for path in leftovers if path.exists()]
        status, result, _ = second.request("GET", f"/v1/jobs/{done}/result")
    finally:
        second.stop()
    assert remaining == []
    assert status == 200
    assert result["tokens"][0]["word"] == "finished"
    log = log_path.read_text()
    assert f"event=job.leftovers_removed job_id={dead_job} reason=service_start" in log
    # The spool without a job id gets its own line, since no job owns it.
    assert "event=job.leftovers_removed reason=service_start files=1" in log


class SpoolingEngine(Engine):
    """Open a token spool as the spaCy engine does, and report its name."""

    name = "test"
    batch_size = None

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name}

    def run(self, job: JobRequest, progress: ProgressReporter) -> dict[str, Any]:
        spool = TokenSpool(os.path.dirname(job.result_path))
        try:
            return {"spool": os.path.basename(spool.path)}
        finally:
            spool.remove()


def test_child_names_spool_after_job(tmp_path: Path) -> None:
    front, child_end = multiprocessing.Pipe(duplex=True)
    job_id = "fedcba9876543210" * 2
    payload = {
        "job_id": job_id,
        "text_path": str(tmp_path / "book.txt"),
        "result_path": str(tmp_path / f"{job_id}.json"),
        "options": {"components": ["tokens"], "model": "fast"},
    }
    child._run_job(child.JobChannel(child_end), SpoolingEngine(), payload)

    messages = []
    while front.poll():
        messages.append(front.recv())
    kind, result = messages[-1]
    assert kind == "result"
    assert result["stats"]["spool"].startswith(f"tokens-{job_id}-")
    assert result["stats"]["spool"].endswith(".jsonl")
    # Outside a job, a spool carries no job id.
    spool = TokenSpool(str(tmp_path))
    spool.remove()
    assert os.path.basename(spool.path).startswith("tokens-")
    assert job_id not in spool.path
