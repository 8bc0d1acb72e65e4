"""How bodies travel: compressed and non-UTF-8 uploads, HEAD and aborted downloads."""

from __future__ import annotations

import asyncio
import gzip
import logging
import zlib
from typing import Any

import pytest

from server.content_encoding import decode_body
from server.errors import ApiError
from tests.conftest import ClientFactory, submit_text, wait_status


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


TEXT = b"Call me Ishmael. Some years ago"
WORDS = ["Call", "me", "Ishmael.", "Some", "years", "ago"]


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", _raw_deflate(TEXT)),
        ("deflate, gzip", gzip.compress(zlib.compress(TEXT))),
        ("identity", TEXT),
    ],
    ids=["gzip", "x-gzip", "zlib-deflate", "raw-deflate", "two-codings", "identity"],
)
async def test_compressed_upload_is_decoded(
    make_client: ClientFactory, encoding: str, body: bytes
) -> None:
    client = await make_client()
    headers = {"Content-Type": "text/plain", "Content-Encoding": encoding}
    response = await client.post("/v1/jobs", data=body, headers=headers)
    job = await response.json()
    assert response.status == 202, job
    await wait_status(client, job["job_id"], {"completed"})
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert [token["word"] for token in result["tokens"]] == WORDS


async def test_decompression_bomb_is_413(make_client: ClientFactory) -> None:
    client = await make_client(max_body_bytes=10_000)
    bomb = gzip.compress(b"a " * 50_000)
    assert len(bomb) < 10_000
    headers = {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    response = await client.post("/v1/jobs", data=bomb, headers=headers)
    body = await response.json()
    assert response.status == 413
    assert body["error"]["code"] == "body_too_large"
    assert "decompresses" in body["error"]["message"]


def test_gzip_members_are_joined() -> None:
    body = gzip.compress(b"first ") + gzip.compress(b"second")
    assert decode_body(body, "gzip", 100) == b"first second"


def test_empty_and_padded_members_accepted() -> None:
    assert decode_body(gzip.compress(b""), "gzip", 100) == b""
    assert decode_body(zlib.compress(b""), "deflate", 100) == b""
    two = gzip.compress(b"First part. ") + gzip.compress(b"")
    assert decode_body(two, "gzip", 100) == b"First part. "
    assert decode_body(gzip.compress(b"padded") + b"\0" * 8, "gzip", 100) == b"padded"


def test_truncated_gzip_is_rejected() -> None:
    with pytest.raises(ApiError) as caught:
        decode_body(gzip.compress(TEXT * 20)[:-12], "gzip", 10_000)
    assert caught.value.status == 400
    assert "incomplete gzip" in caught.value.message


@pytest.mark.parametrize(
    ("charset", "body", "word"),
    [
        ("latin-1", "café au lait".encode("latin-1"), "café"),
        ("UTF-16", "café au lait".encode("utf-16"), "café"),
        ("cp1252", "“café” au lait".encode("cp1252"), "“café”"),
        # RFC 2781: without a byte-order mark, UTF-16 is big-endian.
        ("utf-16", "café au lait".encode("utf-16-be"), "café"),
        # The Unicode Standard: without a byte-order mark, UTF-32 is big-endian.
        ("utf-32", "café au lait".encode("utf-32-be"), "café"),
        ("UTF-32", "café au lait".encode("utf-32"), "café"),
    ],
)
async def test_declared_charset_is_decoded(
    make_client: ClientFactory, charset: str, body: bytes, word: str
) -> None:
    client = await make_client()
    headers = {"Content-Type": f"text/plain; charset={charset}"}
    response = await client.post("/v1/jobs", data=body, headers=headers)
    job = await response.json()
    assert response.status == 202, job
    await wait_status(client, job["job_id"], {"completed"})
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert result["tokens"][0]["word"] == word


async def test_json_byte_order_mark_ignored(make_client: ClientFactory) -> None:
    client = await make_client()
    body = b'\xef\xbb\xbf{"text": "alpha beta"}'
    response = await client.post("/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 202, await response.text()


async def _completed_job(client: Any, words: int) -> str:
    job = await submit_text(client, "word " * words)
    await wait_status(client, job["job_id"], {"completed"}, 60.0)
    return str(job["job_id"])


async def _read_head(reader: asyncio.StreamReader) -> str:
    return (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")


async def test_head_result_sends_headers_only(make_client: ClientFactory) -> None:
    client = await make_client()
    job_id = await _completed_job(client, 2_000)
    # A raw connection shows what aiohttp's client would hide: body bytes after
    # a HEAD reply would be read as the start of the next reply.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(
            f"HEAD /v1/jobs/{job_id}/result HTTP/1.1\r\nHost: test\r\n\r\n"
            "GET /v1/health HTTP/1.1\r\nHost: test\r\n\r\n".encode()
        )
        head = await _read_head(reader)
        health = await _read_head(reader)
    finally:
        writer.close()
    assert head.startswith("HTTP/1.1 200")
    assert "Content-Length: 0" not in head
    assert health.startswith("HTTP/1.1 200"), health


async def test_aborted_download_logs_one_line(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client()
    job_id = await _completed_job(client, 200_000)
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET /v1/jobs/{job_id}/result HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    await reader.readexactly(1024)
    writer.transport.abort()
    for _ in range(100):
        if any("result.download_aborted" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.05)
    aborted = [r for r in caplog.records if "result.download_aborted" in r.getMessage()]
    assert len(aborted) == 1
    assert job_id in aborted[0].getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_upper_case_job_id_explained(make_client: ClientFactory) -> None:
    client = await make_client()
    job_id = await _completed_job(client, 3)
    response = await client.get(f"/v1/jobs/{job_id.upper()}")
    body = await response.json()
    assert response.status == 400
    assert "lower-case" in body["error"]["message"]


async def test_list_rejects_unknown_query(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/v1/jobs", params={"limit": "-1"})
    body = await response.json()
    assert response.status == 400
    assert "'limit'" in body["error"]["message"]
    twice = await client.get("/v1/jobs", params=[("status", "pending"), ("status", "failed")])
    assert twice.status == 400
    assert "more than once" in (await twice.json())["error"]["message"]
