"""Clients that vanish mid-upload or mid-download cost the service nothing."""

from __future__ import annotations

import asyncio

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
    # Only the headers are sent: the answer must come without the body.
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
