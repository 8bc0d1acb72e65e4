"""Clients that vanish mid-upload or mid-download cost the service nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from tests.conftest import ClientFactory, submit_text, wait_status


async def open_raw(client) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(client.server.host, client.server.port)


async def test_upload_cut_short_queues_nothing(make_client: ClientFactory) -> None:
    client = await make_client()
    reader, writer = await open_raw(client)
    writer.write(
        b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n"
        + b"word " * 1000
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0
    job = await submit_text(client, "a complete upload")
    await wait_status(client, job["job_id"], {"completed"})


async def test_declared_oversize_body_rejected_early(make_client: ClientFactory) -> None:
    client = await make_client(max_body_bytes=4096)
    reader, writer = await open_raw(client)
    # Only the headers are sent: the response must come without the body.
    writer.write(
        b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 900000000\r\n\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413")


async def test_download_cut_short_keeps_result(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "word " * 200_000)
    await wait_status(client, job["job_id"], {"completed"})
    reader, writer = await open_raw(client)
    writer.write(
        f"GET /v1/jobs/{job['job_id']}/result HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    )
    await writer.drain()
    await reader.read(1000)
    writer.close()
    await writer.wait_closed()
    response = await client.get(f"/v1/jobs/{job['job_id']}/result")
    result = await response.json()
    assert response.status == 200
    assert result["text"]["tokens"] == 200_000


async def test_stalled_upload_times_out(make_client: ClientFactory) -> None:
    client = await make_client(upload_timeout_s=0.5)
    reader, writer = await open_raw(client)
    writer.write(
        b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 5000\r\n\r\nonly a little"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408")


async def test_upload_slots_are_limited(make_client: ClientFactory) -> None:
    client = await make_client(max_concurrent_uploads=2, upload_timeout_s=5)
    stalled = []
    for _ in range(2):
        reader, writer = await open_raw(client)
        writer.write(
            b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 5000\r\n\r\nslow"
        )
        await writer.drain()
        stalled.append(writer)
    await asyncio.sleep(0.2)
    response = await client.post("/v1/jobs", json={"text": "a third upload"})
    body = await response.json()
    assert response.status == 503
    assert body["error"]["code"] == "too_many_uploads"
    assert "Retry-After" in response.headers
    for writer in stalled:
        writer.close()
    await asyncio.sleep(0.2)
    retry = await client.post("/v1/jobs", json={"text": "a third upload"})
    assert retry.status == 202


async def test_aborted_upload_logged_without_traceback(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    reader, writer = await open_raw(client)
    writer.write(
        b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\npartial"
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    await asyncio.sleep(0.3)
    assert "event=upload.aborted" in caplog.text
    assert "Traceback" not in caplog.text


async def test_analyze_disconnect_logged_cleanly(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client()
    blocker = await submit_text(client, "#test-engine chunks=400 delay_s=0.05\nslow")
    await wait_status(client, blocker["job_id"], {"running"})

    reader, writer = await open_raw(client)
    body = b"word " * 4000
    writer.write(
        b"POST /v1/analyze HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    jobs: list[dict[str, Any]] = []
    while len(jobs) < 2:
        await asyncio.sleep(0.02)
        jobs = (await (await client.get("/v1/jobs")).json())["jobs"]
    job_id = jobs[1]["job_id"]

    writer.close()
    await writer.wait_closed()
    # The analyze job starts only once the server has seen the client go.
    deadline = time.monotonic() + 30
    connections = client.server.runner.server.connections
    while not any(handler.transport is None for handler in connections):
        assert time.monotonic() < deadline, "the server did not see the close"
        await asyncio.sleep(0.02)
        connections = client.server.runner.server.connections
    await client.delete(f"/v1/jobs/{blocker['job_id']}")
    await wait_status(client, job_id, {"completed"})

    aborted = f"event=result.download_aborted job_id={job_id} "
    deadline = time.monotonic() + 30
    while not any(aborted in record.getMessage() for record in caplog.records):
        assert "unhandled error" not in caplog.text
        assert time.monotonic() < deadline, f"no {aborted!r} line in the log"
        await asyncio.sleep(0.02)
    assert "unhandled error" not in caplog.text
    assert "Traceback" not in caplog.text
