"""FIFO order, one job at a time, the queue limit, cancellation and expiry."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import ClientFactory, submit_text, wait_status

SLOW = "#test-engine chunks=10 delay_s=0.03\n"


async def _run_record(client, job_id: str) -> dict[str, float]:
    result = await (await client.get(f"/v1/jobs/{job_id}/result")).json()
    return result["run"]


async def test_jobs_run_one_at_a_time_in_order(make_client: ClientFactory) -> None:
    client = await make_client()
    jobs = [await submit_text(client, SLOW + f"book {n}") for n in range(5)]
    for job in jobs:
        await wait_status(client, job["job_id"], {"completed"})
    runs = [await _run_record(client, job["job_id"]) for job in jobs]
    for earlier, later in zip(runs, runs[1:]):
        assert earlier["finished"] <= later["started"], (earlier, later)
    assert len({run["pid"] for run in runs}) == 1


async def test_queue_position_counts_down(make_client: ClientFactory) -> None:
    client = await make_client()
    first = await submit_text(client, "#test-engine chunks=10 delay_s=0.1\nslow")
    await wait_status(client, first["job_id"], {"running"})
    second = await submit_text(client, "next")
    third = await submit_text(client, "last")
    status = await (await client.get(f"/v1/jobs/{third['job_id']}")).json()
    assert second["queue_position"] == 1
    assert status["queue_position"] == 2


async def test_full_queue_answers_503(make_client: ClientFactory) -> None:
    client = await make_client(max_queue=10)
    blocker = await submit_text(client, "#test-engine chunks=50 delay_s=0.1\nslow")
    await wait_status(client, blocker["job_id"], {"running"})
    for n in range(10):
        await submit_text(client, f"waiting {n}")
    for attempt in (11, 12):
        response = await client.post("/v1/jobs", json={"text": f"job {attempt}"})
        body = await response.json()
        assert response.status == 503
        assert int(response.headers["Retry-After"]) >= 1
        assert body["error"]["code"] == "queue_full"
        assert "10 jobs are already waiting" in body["error"]["message"]
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["queue"]["waiting"] == 10


# (case, Content-Type, extra headers, status, code) of requests that their
# headers alone condemn.
HEADER_REJECTIONS = [
    ("html", "text/html", {}, 415, "unsupported_media_type"),
    ("unknown charset", "text/plain; charset=klingon", {}, 400, "invalid_charset"),
    ("codec charset", "text/plain; charset=unicode_escape", {}, 400,
     "invalid_charset"),
    ("brotli", "text/plain", {"Content-Encoding": "br"}, 415,
     "unsupported_content_encoding"),
]  # fmt: skip


async def fill_queue(client, waiting: int) -> dict:
    """Start a slow job, then queue ``waiting`` more; return the running one."""
    blocker = await submit_text(client, "#test-engine chunks=600 delay_s=0.1\nslow")
    await wait_status(client, blocker["job_id"], {"running"})
    for n in range(waiting):
        await submit_text(client, f"waiting {n}")
    return blocker


async def test_full_queue_checks_headers_first(make_client: ClientFactory) -> None:
    client = await make_client(max_queue=2, max_body_bytes=4096)
    blocker = await fill_queue(client, 2)

    for case, content_type, headers, status, code in HEADER_REJECTIONS:
        response = await client.post(
            "/v1/jobs", data=b"some words",
            headers={"Content-Type": content_type, **headers},
        )  # fmt: skip
        body = await response.json()
        assert response.status == status, (case, body)
        assert body["error"]["code"] == code, case
        assert "Retry-After" not in response.headers, case
    too_large = await client.post(
        "/v1/jobs", data=b"word " * 1000, headers={"Content-Type": "text/plain"}
    )
    assert too_large.status == 413
    assert (await too_large.json())["error"]["code"] == "body_too_large"
    # Judging a malformed JSON body needs the body, which waits for a slot.
    malformed = await client.post(
        "/v1/jobs", data=b'{"text": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status == 503
    assert (await malformed.json())["error"]["code"] == "queue_full"
    await client.delete(f"/v1/jobs/{blocker['job_id']}")


# (case, Content-Type, query, words in the message) of submissions whose query
# options can never succeed.
QUERY_REJECTIONS = [
    ("unknown model", "text/plain", "model=huge", "'huge'"),
    ("unknown component", "text/plain", "pipeline=bogus", "'bogus'"),
    ("unknown parameter", "text/plain", "foo=1", "'foo'"),
    ("empty pipeline", "text/plain", "pipeline=", "empty"),
    ("control character in book_id", "text/plain", "book_id=a%07b", "U+0007"),
    ("query with json", "application/json", "model=fast", "JSON object"),
]


async def test_full_queue_checks_query_first(make_client: ClientFactory) -> None:
    client = await make_client(max_queue=2)
    blocker = await fill_queue(client, 2)

    for case, content_type, query, words in QUERY_REJECTIONS:
        response = await client.post(
            f"/v1/jobs?{query}", data=b'{"text": "some words"}',
            headers={"Content-Type": content_type},
        )  # fmt: skip
        body = await response.json()
        assert response.status == 400, (case, body)
        assert body["error"]["code"] in ("invalid_field", "invalid_option"), case
        assert words in body["error"]["message"], case
        assert "Retry-After" not in response.headers, case
    # Valid options still wait for a queue slot.
    valid = await client.post(
        "/v1/jobs?model=fast&pipeline=tokens&book_id=b", data=b"some words",
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    assert valid.status == 503
    assert (await valid.json())["error"]["code"] == "queue_full"
    await client.delete(f"/v1/jobs/{blocker['job_id']}")


async def test_analyze_size_checked_before_queue(make_client: ClientFactory) -> None:
    client = await make_client(max_queue=2, sync_max_tokens=5)
    blocker = await fill_queue(client, 2)

    too_long = await client.post("/v1/analyze", json={"text": "a b c d e f g"})
    body = await too_long.json()
    assert too_long.status == 413
    assert body["error"]["code"] == "too_many_tokens"
    assert "Retry-After" not in too_long.headers
    # A document that fits still waits for a queue slot.
    short = await client.post("/v1/analyze", json={"text": "a b c"})
    assert short.status == 503
    assert (await short.json())["error"]["code"] == "queue_full"


async def test_cancel_pending_job_at_once(make_client: ClientFactory) -> None:
    client = await make_client()
    blocker = await submit_text(client, "#test-engine chunks=20 delay_s=0.05\nslow")
    waiting = await submit_text(client, "never runs")
    response = await client.delete(f"/v1/jobs/{waiting['job_id']}")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "cancelled"
    assert body["cancel_requested"] is True
    await wait_status(client, blocker["job_id"], {"completed"})
    status = await (await client.get(f"/v1/jobs/{waiting['job_id']}")).json()
    assert status["status"] == "cancelled"
    assert status["cancel_requested"] is True
    assert status["started_at"] is None


async def test_cancel_running_job_within_chunk(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "#test-engine chunks=100 delay_s=0.1\nslow")
    await wait_status(client, job["job_id"], {"running"})
    response = await client.delete(f"/v1/jobs/{job['job_id']}")
    body = await response.json()
    assert response.status == 202
    assert body["cancel_requested"] is True
    done = await wait_status(client, job["job_id"], {"cancelled", "completed"}, 5.0)
    assert done["status"] == "cancelled"
    assert done["progress"] < 100
    stats = await (await client.get("/v1/jobs/stats")).json()
    assert stats["child"]["restarts"] == 0
    follow = await submit_text(client, "after the cancel")
    await wait_status(client, follow["job_id"], {"completed"})


async def test_cancel_of_hung_job_kills_child(make_client: ClientFactory) -> None:
    client = await make_client(cancel_grace_s=0.5)
    # One chunk that sleeps 30 s: the engine never checks for the cancel.
    job = await submit_text(client, "#test-engine chunks=1 delay_s=30\nstuck")
    await wait_status(client, job["job_id"], {"running"})
    await client.delete(f"/v1/jobs/{job['job_id']}")
    done = await wait_status(client, job["job_id"], {"cancelled", "failed"}, 10.0)
    assert done["status"] == "cancelled"
    follow = await submit_text(client, "runs on a fresh child")
    await wait_status(client, follow["job_id"], {"completed"}, 60.0)


async def test_cancel_finished_job_is_409(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "quick")
    await wait_status(client, job["job_id"], {"completed"})
    response = await client.delete(f"/v1/jobs/{job['job_id']}")
    body = await response.json()
    assert response.status == 409
    assert body["error"]["code"] == "job_finished"


async def test_finished_job_expires_after_ttl(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = await make_client(result_ttl_s=0.3)
    job = await submit_text(client, "short lived")
    await wait_status(client, job["job_id"], {"completed"})
    result_file = tmp_path / "results" / f"{job['job_id']}.json"
    assert (await client.get(f"/v1/jobs/{job['job_id']}/result")).status == 200
    assert result_file.exists()
    await asyncio.sleep(0.6)
    status = await client.get(f"/v1/jobs/{job['job_id']}")
    result = await client.get(f"/v1/jobs/{job['job_id']}/result")
    assert status.status == 404
    assert result.status == 404
    assert not result_file.exists()
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0
