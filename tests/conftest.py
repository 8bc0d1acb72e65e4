"""Fixtures that run the real service: aiohttp app, scheduler, child process, pipe."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import SERVER_OPTIONS, create_app
from server.config import Settings

ClientFactory = Callable[..., Awaitable[TestClient]]


class ServiceTestServer(TestServer):
    """A test server with the request handler options of ``python -m server``."""

    async def _make_runner(self, **kwargs: Any) -> Any:
        # TestServer's constructor drops handler options, and its start_server
        # turns handler cancellation on, so they are set where the runner is made.
        return await super()._make_runner(**{**kwargs, **SERVER_OPTIONS})


async def wait_ready(
    client: TestClient, timeout_s: float = 120.0, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Poll /v1/ready until the child has loaded its engine."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await client.get("/v1/ready", headers=headers)
        if response.status == 200:
            return await response.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"runner child not ready within {timeout_s} s")


async def wait_status(
    client: TestClient,
    job_id: str,
    wanted: set[str],
    timeout_s: float = 60.0,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Poll a job until its status is one of ``wanted``; return the status body."""
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/v1/jobs/{job_id}", headers=headers)
        body = await response.json()
        if body.get("status") in wanted:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached {wanted}; last status {body}")


async def submit_text(client: TestClient, text: str, **query: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/jobs", data=text.encode("utf-8"), params=query,
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )  # fmt: skip
    body = await response.json()
    assert response.status == 202, body
    return body


@pytest.fixture
def make_client(
    aiohttp_client: Callable[..., Awaitable[TestClient]], tmp_path: Any
) -> ClientFactory:
    """Return a factory for a client of a fresh service with the given settings.

    The service runs the scripted test engine unless ``engine`` is given, and
    its spool lives under the test's temporary folder.
    """

    async def factory(wait: bool = True, **overrides: Any) -> TestClient:
        fields: dict[str, Any] = {"engine": "test", "state_dir": str(tmp_path)}
        fields.update(overrides)
        client = await aiohttp_client(ServiceTestServer(create_app(Settings(**fields))))
        if wait:
            keys = [key.strip() for key in fields.get("api_keys", "").split(",")]
            headers = {"X-API-Key": keys[0]} if keys[0] else None
            await wait_ready(client, headers=headers)
        return client

    return factory
