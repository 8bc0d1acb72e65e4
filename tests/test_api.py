"""The HTTP contract of each endpoint, run against the real service and child."""

from __future__ import annotations

import os
import pathlib

import pytest

from tests.conftest import ClientFactory, submit_text, wait_status

SLOW = "#test-engine chunks=20 delay_s=0.05\n"


async def test_submit_returns_202_and_location(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post(
        "/v1/jobs", json={"text": "Call me Ishmael.", "book_id": "moby"}
    )
    body = await response.json()
    assert response.status == 202
    assert response.headers["Location"] == f"/v1/jobs/{body['job_id']}"
    assert body["status"] == "pending"
    assert body["queue_position"] == 1
    assert body["book_id"] == "moby"
    assert body["submitted_at"].endswith("Z")


async def test_status_reports_progress_and_times(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, SLOW + "one two three four")
    running = await wait_status(client, job["job_id"], {"running"})
    assert running["started_at"] is not None
    assert running["queue_position"] is None
    done = await wait_status(client, job["job_id"], {"completed"})
    assert done["progress"] == 100.0
    assert done["tokens_total"] == 7
    assert done["finished_at"] >= done["started_at"]
    assert done["error"] is None


async def test_progress_moves_in_many_steps(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "#test-engine chunks=30 delay_s=0.06\nwords")
    seen: set[float] = set()
    while True:
        body = await (await client.get(f"/v1/jobs/{job['job_id']}")).json()
        seen.add(body["progress"])
        if body["status"] == "completed":
            break
    between = [value for value in seen if 0 < value < 100]
    assert len(between) >= 10, sorted(seen)


async def test_result_of_completed_job(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "alpha beta", book_id="b1")
    await wait_status(client, job["job_id"], {"completed"})
    response = await client.get(f"/v1/jobs/{job['job_id']}/result")
    assert response.status == 200
    assert response.content_type == "application/json"
    result = await response.json()
    assert [token["word"] for token in result["tokens"]] == ["alpha", "beta"]
    assert result["book_id"] == "b1"
    for section in ("entities", "quotes", "characters", "events", "supersenses"):
        assert result[section] == []


async def test_native_archive_only_for_booknlp(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "alpha beta")
    await wait_status(client, job["job_id"], {"completed"})
    response = await client.get(f"/v1/jobs/{job['job_id']}/booknlp.zip")
    body = await response.json()
    assert response.status == 404
    assert body["error"]["code"] == "no_native_output"
    assert "'test'" in body["error"]["message"]


def test_expired_job_takes_archive_along(tmp_path) -> None:
    from runner.protocol import native_archive_path
    from server.jobs import Job, JobTable

    result = tmp_path / "job.json"
    archive = pathlib.Path(native_archive_path(str(result)))
    text = tmp_path / "job.txt"
    for path in (result, archive, text):
        path.write_text("x")
    job = Job("j1", str(text), str(result), 1, 1, ("tokens",), "fast")
    JobTable.delete_files(job)
    assert not result.exists()
    assert not archive.exists()
    assert not text.exists()


async def test_result_before_completion_is_425(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, SLOW + "words")
    response = await client.get(f"/v1/jobs/{job['job_id']}/result")
    body = await response.json()
    assert response.status == 425
    assert body["error"]["code"] == "job_not_finished"
    assert body["error"]["status"] in ("pending", "running")


async def test_result_of_failed_job_gives_error(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "#test-engine raise_at=1\nwords")
    failed = await wait_status(client, job["job_id"], {"failed"})
    assert "scripted failure at chunk 1" in failed["error"]["message"]
    response = await client.get(f"/v1/jobs/{job['job_id']}/result")
    body = await response.json()
    assert response.status == 409
    assert body["error"]["code"] == "job_failed"
    assert "scripted failure" in body["error"]["message"]


async def test_list_jobs_in_submission_order(make_client: ClientFactory) -> None:
    client = await make_client()
    first = await submit_text(client, "one")
    second = await submit_text(client, "two")
    body = await (await client.get("/v1/jobs")).json()
    assert [job["job_id"] for job in body["jobs"]] == [first["job_id"], second["job_id"]]
    await wait_status(client, second["job_id"], {"completed"})
    done = await (await client.get("/v1/jobs", params={"status": "completed"})).json()
    assert done["count"] == 2
    bad = await client.get("/v1/jobs", params={"status": "done"})
    assert bad.status == 400


async def test_stats_counts_and_limits(make_client: ClientFactory) -> None:
    client = await make_client(max_queue=7)
    job = await submit_text(client, "one")
    await wait_status(client, job["job_id"], {"completed"})
    body = await (await client.get("/v1/jobs/stats")).json()
    assert body["queue"] == {"waiting": 0, "limit": 7, "running": None, "busy": False}
    assert body["jobs"]["completed"] == 1
    assert body["limits"]["max_tokens"] == 1_000_000
    assert body["child"]["ready"] is True


async def test_health_and_ready(make_client: ClientFactory) -> None:
    client = await make_client()
    health = await client.get("/v1/health")
    assert health.status == 200
    assert (await health.json())["status"] == "ok"
    ready = await (await client.get("/v1/ready")).json()
    assert ready["ready"] is True
    assert ready["engine"] == "test"
    assert ready["components"] == ["tokens"]
    assert ready["device"] == "cpu"
    assert isinstance(ready["child_pid"], int)
    assert ready["child_pid"] != os.getpid()


async def test_ready_is_503_while_child_loads(make_client: ClientFactory) -> None:
    client = await make_client(wait=False)
    response = await client.get("/v1/ready")
    body = await response.json()
    assert response.status == 503
    assert body["error"]["code"] == "not_ready"


async def test_analyze_returns_result_inline(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post("/v1/analyze", json={"text": "short text here"})
    assert response.status == 200
    result = await response.json()
    assert [token["word"] for token in result["tokens"]] == ["short", "text", "here"]


async def test_analyze_over_limit_points_to_jobs(make_client: ClientFactory) -> None:
    client = await make_client(sync_max_tokens=5)
    response = await client.post("/v1/analyze", json={"text": "a b c d e f g"})
    body = await response.json()
    assert response.status == 413
    assert "/v1/jobs" in body["error"]["message"]


@pytest.mark.parametrize(
    ("max_tokens", "sync_max_tokens", "tokens", "limit", "advice"),
    [
        (200, 20_000, 201, 200, "Split the document into parts of at most 200 tokens"),
        (10, 5, 12, 5, "POST /v1/jobs takes up to 10 tokens, so split the document"),
        (10, 5, 8, 5, "Submit it to POST /v1/jobs, which takes up to 10 tokens"),
    ],
)
async def test_analyze_limit_advice_holds(
    make_client: ClientFactory,
    max_tokens: int,
    sync_max_tokens: int,
    tokens: int,
    limit: int,
    advice: str,
) -> None:
    client = await make_client(max_tokens=max_tokens, sync_max_tokens=sync_max_tokens)
    response = await client.post("/v1/analyze", json={"text": "w " * tokens})
    body = await response.json()
    assert response.status == 413, body
    assert body["error"]["limit"] == limit
    assert advice in body["error"]["message"]


async def test_analyze_timeout_hands_over_job(make_client: ClientFactory) -> None:
    client = await make_client(sync_timeout_s=0.2)
    response = await client.post(
        "/v1/analyze", json={"text": "#test-engine chunks=10 delay_s=0.1\nslow"}
    )
    body = await response.json()
    assert response.status == 202
    assert response.headers["Location"] == f"/v1/jobs/{body['job_id']}"
    await wait_status(client, body["job_id"], {"completed"})


@pytest.mark.parametrize("path", ["/v1/jobs/" + "0" * 32, "/v1/jobs/" + "0" * 32 + "/result"])
async def test_unknown_job_is_404(make_client: ClientFactory, path: str) -> None:
    client = await make_client()
    response = await client.get(path)
    body = await response.json()
    assert response.status == 404
    assert body["error"]["code"] == "job_not_found"


async def test_unknown_route_is_json_404(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/v2/anything")
    assert response.status == 404
    assert response.content_type == "application/json"


async def test_wrong_method_is_json_405(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.put("/v1/jobs")
    body = await response.json()
    assert response.status == 405
    assert body["error"]["code"] == "method_not_allowed"
