"""Faults at random moments across many jobs: every job ends, exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import signal

from tests.conftest import ClientFactory, submit_text, wait_ready, wait_status

FINAL = {"completed", "failed", "cancelled"}


async def test_random_child_kills_across_jobs(make_client: ClientFactory) -> None:
    client = await make_client()
    rng = random.Random(20261204)
    jobs = [
        await submit_text(client, f"#test-engine chunks=8 delay_s=0.03\nbook {n}")
        for n in range(8)
    ]
    kills = 0
    for _ in range(4):
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        pid = (await wait_ready(client))["child_pid"]
        os.kill(pid, signal.SIGKILL)
        kills += 1
    finals = [await wait_status(client, job["job_id"], FINAL, 120.0) for job in jobs]
    statuses = [final["status"] for final in finals]
    assert set(statuses) <= {"completed", "failed"}
    assert statuses.count("failed") <= kills
    for final in finals:
        if final["status"] == "failed":
            assert final["error"]["code"] == "child_died"
    started = [final["started_at"] for final in finals if final["started_at"]]
    assert started == sorted(started)
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["jobs"]["completed"] + stats["jobs"]["failed"] == len(jobs)
    last = await submit_text(client, "after the storm")
    assert (await wait_status(client, last["job_id"], FINAL))["status"] == "completed"


async def test_cancel_racing_completion(make_client: ClientFactory) -> None:
    client = await make_client()
    rng = random.Random(7)
    for _ in range(12):
        job = await submit_text(client, "#test-engine chunks=3 delay_s=0.02\nbook")
        await asyncio.sleep(rng.uniform(0.0, 0.12))
        response = await client.delete(f"/v1/jobs/{job['job_id']}")
        final = await wait_status(client, job["job_id"], FINAL)
        result = await client.get(f"/v1/jobs/{job['job_id']}/result")
        if response.status == 409:
            assert final["status"] == "completed"
        else:
            assert response.status in (200, 202)
            assert final["status"] in ("cancelled", "completed")
        if final["status"] == "completed":
            assert result.status == 200
        else:
            assert result.status == 409
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["queue"]["busy"] is False
    assert stats["child"]["restarts"] == 0
