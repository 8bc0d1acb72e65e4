"""Optional API keys: who may call what, and which jobs each key can read."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from multidict import CIMultiDict

from server.app import create_app
from server.config import Settings
from tests.conftest import ClientFactory, wait_ready, wait_status
from tests.service_process import ROOT, free_port

ALPHA = {"Authorization": "Bearer alpha-secret-key"}
BETA = {"X-API-Key": "beta-secret-key"}
KEYS = "alpha-secret-key, beta-secret-key"


async def test_missing_key_is_401(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    response = await client.post("/v1/jobs", json={"text": "a book"})
    body = await response.json()
    assert response.status == 401
    assert body["error"]["code"] == "unauthorized"
    assert "Authorization: Bearer" in body["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_other_scheme_named_not_echoed(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    headers = {"Authorization": "Basic alpha-secret-key"}
    response = await client.get("/v1/jobs", headers=headers)
    message = (await response.json())["error"]["message"]
    assert response.status == 401
    assert "scheme 'Basic' is not supported" in message
    assert "alpha-secret-key" not in message


@pytest.mark.parametrize(
    "value", ["alpha-secret-key", "alpha-secret-key extra", "Bearer\talpha-secret-key"]
)
async def test_bare_key_never_echoed(make_client: ClientFactory, value: str) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    response = await client.get("/v1/jobs", headers={"Authorization": value})
    message = (await response.json())["error"]["message"]
    assert response.status == 401
    assert "alpha-secret" not in message
    assert "Bearer KEY" in message


async def test_wrong_key_is_401_and_not_logged(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await make_client(api_keys=KEYS, wait=False)
    response = await client.get("/v1/jobs", headers={"X-API-Key": "guessed-key"})
    assert response.status == 401
    assert "not valid" in (await response.json())["error"]["message"]
    assert "guessed-key" not in caplog.text
    assert "alpha-secret-key" not in caplog.text


async def test_jobs_belong_to_their_key(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS)
    response = await client.post("/v1/jobs", json={"text": "mine"}, headers=ALPHA)
    assert response.status == 202
    job_id = (await response.json())["job_id"]
    body = await wait_status(client, job_id, {"completed"}, headers=ALPHA)
    assert body["status"] == "completed"
    for method, path in [
        ("GET", f"/v1/jobs/{job_id}"),
        ("GET", f"/v1/jobs/{job_id}/result"),
        ("DELETE", f"/v1/jobs/{job_id}"),
    ]:
        other = await client.request(method, path, headers=BETA)
        assert other.status == 404, (method, path)
    listed = await (await client.get("/v1/jobs", headers=BETA)).json()
    assert listed["count"] == 0
    own = await (await client.get("/v1/jobs", headers=ALPHA)).json()
    assert own["count"] == 1


async def test_health_open_ready_protected(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    assert (await client.get("/v1/health")).status == 200
    assert (await client.get("/v1/ready")).status == 401
    assert (await client.get("/v1/ready", headers=ALPHA)).status in (200, 503)


async def test_status_paths_open_when_unprotected(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, protect_status=False, wait=False)
    assert (await client.get("/v1/ready")).status in (200, 503)
    assert (await client.get("/v1/jobs")).status == 401


async def test_keys_read_from_file(make_client: ClientFactory, tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# operators\nfile-key-one\n\n  file-key-two  \n")
    client = await make_client(api_keys_file=str(key_file), wait=False)
    ok = await client.get("/v1/jobs", headers={"X-API-Key": "file-key-two"})
    assert ok.status == 200
    commented = await client.get("/v1/jobs", headers={"X-API-Key": "# operators"})
    assert commented.status == 401


@pytest.mark.parametrize("content", [b"", b"\n  \n\t\n", b"# only a comment\n"])
def test_key_file_without_keys_rejected(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "keys"
    key_file.write_bytes(content)
    settings = Settings(
        engine="test", state_dir=str(tmp_path), api_keys_file=str(key_file)
    )
    with pytest.raises(ValueError) as caught:
        create_app(settings)
    message = str(caught.value)
    assert f"API key file {str(key_file)!r} contains no keys" in message
    assert "add one key per line" in message
    assert "--api-keys-file" in message


@pytest.mark.parametrize("inline", [" , ", ",", "   "])
def test_inline_keys_without_keys_rejected(tmp_path: Path, inline: str) -> None:
    settings = Settings(engine="test", state_dir=str(tmp_path), api_keys=inline)
    with pytest.raises(ValueError, match="api_keys contains no keys") as caught:
        create_app(settings)
    assert "BOOKNLP_JOBS_API_KEYS" in str(caught.value)


def test_non_utf8_key_file_named(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_bytes(b"first-key\n\xffsecond\n")
    settings = Settings(
        engine="test", state_dir=str(tmp_path), api_keys_file=str(key_file)
    )
    with pytest.raises(ValueError) as caught:
        create_app(settings)
    message = str(caught.value)
    assert f"API key file {str(key_file)!r} is not valid UTF-8" in message
    assert "byte offset 10" in message
    assert "save it as UTF-8" in message
    assert "second" not in message


def test_server_exits_on_blank_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("\n\n")
    command = [
        sys.executable, "-m", "server", "--engine", "test", "--port", str(free_port()),
        "--state-dir", str(tmp_path / "state"), "--api-keys-file", str(key_file),
    ]  # fmt: skip
    # A server that started without keys would run until the timeout.
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot start: API key file" in done.stderr
    assert "contains no keys" in done.stderr


def test_missing_key_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match="cannot read the API key file"):
        create_app(
            Settings(engine="test", state_dir=str(tmp_path), api_keys_file=str(missing))
        )


async def test_open_without_keys(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post("/v1/jobs", json={"text": "open service"})
    assert response.status == 202
    job = await response.json()
    done = await wait_status(client, job["job_id"], {"completed"})
    assert done["status"] == "completed"


async def _submit_as(client: TestClient, headers: dict[str, str], text: str) -> str:
    response = await client.post("/v1/jobs", json={"text": text}, headers=headers)
    body = await response.json()
    assert response.status == 202, body
    return str(body["job_id"])


async def test_stats_cover_own_key_only(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS)
    done = await _submit_as(client, ALPHA, "a finished book")
    await wait_status(client, done, {"completed"}, headers=ALPHA)
    crashed = await _submit_as(client, ALPHA, "#test-engine chunks=5 kill_at=2\nbook")
    await wait_status(client, crashed, {"failed"}, headers=ALPHA)
    await wait_ready(client, headers=ALPHA)

    own = await (await client.get("/v1/jobs/stats", headers=ALPHA)).json()
    assert own["jobs"]["completed"] == 1
    assert own["jobs"]["failed"] == 1
    assert own["outcomes"] == {"completed": 1, "failed": 1, "child_death": 1}

    other = await (await client.get("/v1/jobs/stats", headers=BETA)).json()
    assert set(other["jobs"].values()) == {0}
    assert other["outcomes"] == {}
    assert other["queue"]["running"] is None
    # Queue occupancy and the runner child are shared by every key.
    assert other["child"]["restarts"] == own["child"]["restarts"] == 1


async def test_conflicting_credentials_are_401(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    cases = {
        "invalid header key, valid bearer": {
            "X-API-Key": "guessed-key", "Authorization": "Bearer alpha-secret-key",
        },
        "valid header key, invalid bearer": {
            "X-API-Key": "alpha-secret-key", "Authorization": "Bearer guessed-key",
        },
        "two valid keys": {
            "X-API-Key": "beta-secret-key", "Authorization": "Bearer alpha-secret-key",
        },
    }  # fmt: skip
    for case, headers in cases.items():
        response = await client.get("/v1/jobs", headers=headers)
        body = await response.json()
        message = body["error"]["message"]
        assert response.status == 401, case
        assert body["error"]["code"] == "unauthorized", case
        assert "different API keys" in message, case
        assert "send only one" in message, case
        assert "secret" not in message, case
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), case


async def test_repeated_key_headers_must_agree(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    headers = CIMultiDict([("X-API-Key", "alpha-secret-key"), ("X-API-Key", "guessed")])
    response = await client.get("/v1/jobs", headers=headers)
    message = (await response.json())["error"]["message"]
    assert response.status == 401
    assert "2 different API keys in its X-API-Key headers" in message
    assert "Authorization" not in message.partition(";")[0]


async def test_conflict_names_both_headers(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    headers = {"X-API-Key": "guessed", "Authorization": "Bearer alpha-secret-key"}
    response = await client.get("/v1/jobs", headers=headers)
    message = (await response.json())["error"]["message"]
    assert response.status == 401
    assert "in its Authorization and X-API-Key headers" in message


async def _raw_get(client: TestClient, header_line: bytes) -> tuple[int, bytes]:
    """Send GET /v1/jobs with one raw header line; return the status and body."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"GET /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header_line
        + b"\r\nConnection: close\r\n\r\n"
    )  # fmt: skip
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_non_utf8_key_byte_is_401(make_client: ClientFactory) -> None:
    client = await make_client(api_keys="s\u00e9kret", wait=False)
    for line in (b"X-API-Key: s\xe9kret", b"Authorization: Bearer s\xe9kret"):
        status, body = await _raw_get(client, line)
        assert status == 401, line
        assert b"the API key is not valid" in body, line
    # The same key sent as UTF-8, as configured, is accepted.
    status, _ = await _raw_get(client, "X-API-Key: s\u00e9kret".encode())
    assert status == 200


async def test_same_key_twice_is_accepted(make_client: ClientFactory) -> None:
    client = await make_client(api_keys=KEYS, wait=False)
    headers = {
        "X-API-Key": "alpha-secret-key", "Authorization": "Bearer alpha-secret-key",
    }  # fmt: skip
    response = await client.get("/v1/jobs", headers=headers)
    assert response.status == 200


async def test_key_file_lines_are_trimmed(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("\t beta key with spaces \r\n  # indented comment\n")
    client = await make_client(api_keys_file=str(key_file), wait=False)
    for presented in ("beta key with spaces", " beta key with spaces "):
        headers = {"X-API-Key": presented}
        assert (await client.get("/v1/jobs", headers=headers)).status == 200
    bearer = {"Authorization": "Bearer beta key with spaces"}
    assert (await client.get("/v1/jobs", headers=bearer)).status == 200
    inner = {"X-API-Key": "beta key  with spaces"}
    assert (await client.get("/v1/jobs", headers=inner)).status == 401
    comment = {"X-API-Key": "# indented comment"}
    assert (await client.get("/v1/jobs", headers=comment)).status == 401
