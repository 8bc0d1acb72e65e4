"""The OpenAPI description: valid, complete, and matched by real responses.

``SpecChecker`` and ``send`` are shared with ``tests/test_fuzz.py``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from yarl import URL

from runner.protocol import ENGINES
from server.app import create_app
from server.config import Settings
from server.jobs import JobStatus
from server.openapi import build_openapi
from tests.conftest import ClientFactory, submit_text, wait_status

Schema = dict[str, Any]

SPEC_URI = "urn:booknlp-jobs:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Statuses whose body is a byte range of a JSON document, not a whole one.
BODY_EXEMPT_STATUSES = {206}
DATA = Path(__file__).parent / "data"
SLOW = "#test-engine chunks=40 delay_s=0.05\n"


@dataclasses.dataclass(frozen=True)
class Reply:
    """One request as sent and the response as received, for schema checks."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"{self.method} {self.path[:200]} -> {self.status} {self.body[:300]!r}"


async def send(
    client: TestClient,
    method: str,
    path: str,
    **kwargs: Any,
) -> Reply:
    """Send a request whose ``path`` is already percent-encoded; read the body.

    The path goes out as given: yarl would otherwise decode escapes and resolve
    ``..`` segments before the server receives them.
    """
    url = URL(path, encoded=True)
    async with client.request(method, url, **kwargs) as response:
        body = await response.read()
        return Reply(method, path, response.status, response.headers, body)


def _path_safe(raw_path: str) -> str:
    """Decode a path as aiohttp does before routing: all escapes but %2F and %25."""
    parts = re.split(r"(%2[fF]|%25)", raw_path)
    return "".join(
        part if re.fullmatch(r"%2[fF]|%25", part) else unquote(part) for part in parts
    )


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SpecChecker:
    """Find the operation for a request and check a response against its schema."""

    def __init__(self, spec: Schema) -> None:
        self.spec = spec
        resource = Resource(contents=spec, specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        # Literal paths first, as aiohttp matches /v1/jobs/stats before
        # /v1/jobs/{job_id} because it was registered first.
        templates = sorted(spec["paths"], key=lambda path: "{" in path)
        self._patterns = [(path, self._compile(path)) for path in templates]

    @staticmethod
    def _compile(template: str) -> re.Pattern[str]:
        # aiohttp's pattern for a {name} segment, which excludes braces.
        parts = re.split(r"(\{[^}]+\})", template)
        regex = "".join(
            "[^{}/]+" if part.startswith("{") else re.escape(part) for part in parts
        )
        return re.compile(regex)

    def resolve(self, method: str, path: str) -> tuple[str, set[str]]:
        """Return the JSON pointer to the responses for ``method`` on ``path``.

        An unknown path points to ``NotFound``; a known path without the method
        points to ``MethodNotAllowed`` and the set contains the methods for Allow.
        """
        safe_path = _path_safe(path.split("?", 1)[0])
        matches = [t for t, regex in self._patterns if regex.fullmatch(safe_path)]
        verb = "get" if method.lower() == "head" else method.lower()
        for template in matches:
            if verb in self.spec["paths"][template]:
                return f"/paths/{_escape_pointer(template)}/{verb}/responses", set()
        if not matches:
            return "/components/responses/NotFound", set()
        allowed = {
            name.upper()
            for template in matches
            for name in self.spec["paths"][template]
            if name in HTTP_METHODS
        }
        if "GET" in allowed:
            allowed.add("HEAD")
        return "/components/responses/MethodNotAllowed", allowed

    def lookup(self, pointer: str) -> Any:
        node: Any = self.spec
        for token in pointer.strip("/").split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[token]
        return node

    def follow(self, pointer: str) -> tuple[str, Schema]:
        """Return the pointer and object at ``pointer``, following one ``$ref``."""
        node = self.lookup(pointer)
        if "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.lookup(pointer)
        return pointer, node

    def validate(self, pointer: str, value: Any) -> list[str]:
        """Return the schema errors of ``value`` against the schema at ``pointer``."""
        validator = Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        return [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(value)
        ]

    def response_pointer(self, reply: Reply) -> tuple[str, Schema]:
        """Return the declared response for the reply's status; fail if undeclared."""
        responses, _ = self.resolve(reply.method, reply.path)
        if responses.startswith("/components/responses/"):
            # With API keys, the key check runs before aiohttp's 404 and 405.
            if reply.status == 401:
                return self.follow("/components/responses/Unauthorized")
            return self.follow(responses)
        declared = self.lookup(responses)
        assert str(reply.status) in declared, f"undeclared status: {reply}"
        return self.follow(f"{responses}/{reply.status}")

    def assert_matches(self, reply: Reply) -> None:
        """Assert that the reply's status, headers and body match the description."""
        pointer, response = self.response_pointer(reply)
        if pointer.endswith("/MethodNotAllowed"):
            _, allowed = self.resolve(reply.method, reply.path)
            assert reply.status == 405, f"expected 405: {reply}"
            assert set(reply.headers["Allow"].split(",")) == allowed, str(reply)
        if pointer.endswith("/NotFound"):
            assert reply.status == 404, f"expected 404: {reply}"
        for name in response.get("headers", {}):
            self._assert_header(reply, name, f"{pointer}/headers/{name}")
        self._assert_body(reply, pointer, response)

    def _assert_header(self, reply: Reply, name: str, pointer: str) -> None:
        pointer, header = self.follow(pointer)
        if not header.get("required"):
            return
        assert name in reply.headers, f"missing header {name}: {reply}"
        value: Any = reply.headers[name]
        if header["schema"].get("type") == "integer":
            assert value.isdigit(), f"header {name}={value!r} is not an integer"
            value = int(value)
        errors = self.validate(f"{pointer}/schema", value)
        assert not errors, f"header {name}: {errors}: {reply}"

    def _assert_body(self, reply: Reply, pointer: str, response: Schema) -> None:
        if reply.method == "HEAD" or reply.status in BODY_EXEMPT_STATUSES:
            return
        if "content" not in response:
            assert reply.body == b"", f"body where none is declared: {reply}"
            return
        content_type = reply.headers.get("Content-Type", "").split(";")[0]
        assert content_type in response["content"], f"undeclared type: {reply}"
        if content_type == "application/json":
            body = reply.json()
        else:
            body = reply.body.decode("utf-8")
        schema_pointer = f"{pointer}/content/{_escape_pointer(content_type)}/schema"
        errors = self.validate(schema_pointer, body)
        assert not errors, f"schema mismatch {errors[:5]}: {reply}"


CHECKER = SpecChecker(build_openapi("test"))


def _described_operations(spec: Schema) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def _app_handlers() -> dict[tuple[str, str], str]:
    """Return the handler name for each (method, path) route on the app."""
    # Building the app starts nothing: the child starts with the app's startup.
    app = create_app(Settings(engine="test"))
    return {
        (route.method, route.resource.canonical): route.handler.__name__
        for route in app.router.routes()
        if route.resource is not None
    }


# ------------------------------------------------------ the description itself


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_description_is_valid_openapi(engine: str) -> None:
    spec = build_openapi(engine)
    assert spec["openapi"].startswith("3.1")
    validate_openapi(spec)


def test_every_route_is_described() -> None:
    routes = set(_app_handlers())
    # aiohttp adds HEAD to each GET route; RFC 9110 defines HEAD as GET without
    # a body, so the description lists only the GET.
    heads = {(method, path) for method, path in routes if method == "HEAD"}
    described = _described_operations(build_openapi("test"))
    assert {("GET", path) for _, path in heads} <= routes
    assert routes - heads - described == set()
    assert described - (routes - heads) == set()


def test_operation_ids_name_handlers() -> None:
    handlers = _app_handlers()
    spec = build_openapi("test")
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                handler = handlers[(method.upper(), path)]
                assert operation["operationId"] == handler, (method, path)


def test_pipeline_enum_follows_engine() -> None:
    spacy = build_openapi("spacy")["components"]["parameters"]["Pipeline"]
    test = build_openapi("test")["components"]["parameters"]["Pipeline"]
    spacy_names = spacy["schema"]["items"]["enum"]
    assert spacy_names[:5] == list(ENGINES["spacy"].components)
    assert "coref" in spacy_names
    assert "events" in spacy_names
    assert "supersenses" not in spacy_names
    assert test["schema"]["items"]["enum"] == ["tokens", "token"]


def test_model_and_status_enums() -> None:
    schemas = build_openapi("spacy")["components"]["schemas"]
    statuses = schemas["Job"]["properties"]["status"]["enum"]
    assert schemas["Job"]["properties"]["model"]["enum"] == list(
        ENGINES["spacy"].models
    )
    assert statuses == [status.value for status in JobStatus]


def test_json_pipeline_is_list_or_null() -> None:
    schema = build_openapi("spacy")["components"]["schemas"]["SubmitRequest"]
    forms = schema["properties"]["pipeline"]["anyOf"]
    assert [form["type"] for form in forms] == ["array", "null"]


# ------------------------------------------------- real responses, main flows


async def test_served_description_matches_builder(make_client: ClientFactory) -> None:
    client = await make_client()
    reply = await send(client, "GET", "/v1/openapi.json")
    assert reply.status == 200
    assert reply.json() == build_openapi("test")
    CHECKER.assert_matches(reply)


async def test_job_lifecycle_matches_schemas(make_client: ClientFactory) -> None:
    client = await make_client()
    json_job = await send(client, "POST", "/v1/jobs", json={"text": SLOW + "a b"})
    text_job = await send(
        client, "POST", "/v1/jobs?book_id=b1&pipeline=token,tokens&model=fast",
        data=b"plain words", headers={"Content-Type": "text/plain; charset=utf-8"},
    )  # fmt: skip
    first, second = json_job.json()["job_id"], text_job.json()["job_id"]
    await wait_status(client, first, {"running"})
    replies = [
        json_job,
        text_job,
        await send(client, "GET", f"/v1/jobs/{first}"),
        await send(client, "GET", f"/v1/jobs/{first}/result"),
        await send(client, "GET", f"/v1/jobs/{second}"),
        await send(client, "GET", "/v1/jobs"),
        await send(client, "GET", "/v1/jobs/stats"),
    ]
    await wait_status(client, second, {"completed"})
    replies += [
        await send(client, "GET", f"/v1/jobs/{second}"),
        await send(client, "GET", f"/v1/jobs/{second}/result"),
        await send(client, "GET", "/v1/jobs?status=completed"),
        await send(client, "DELETE", f"/v1/jobs/{second}"),
        await send(client, "GET", "/v1/health"),
        await send(client, "GET", "/v1/ready"),
    ]
    statuses = [reply.status for reply in replies]
    assert statuses == [202, 202, 200, 425, 200, 200, 200, 200, 200, 200, 409, 200, 200]
    for reply in replies:
        CHECKER.assert_matches(reply)


async def test_failed_and_cancelled_match_schemas(make_client: ClientFactory) -> None:
    client = await make_client()
    failed = await submit_text(client, "#test-engine raise_at=0\nwords")
    await wait_status(client, failed["job_id"], {"failed"})
    running = await submit_text(client, SLOW + "slow")
    pending = await submit_text(client, "waits")
    await wait_status(client, running["job_id"], {"running"})
    replies = [
        await send(client, "GET", f"/v1/jobs/{failed['job_id']}"),
        await send(client, "GET", f"/v1/jobs/{failed['job_id']}/result"),
        await send(client, "DELETE", f"/v1/jobs/{pending['job_id']}"),
        await send(client, "DELETE", f"/v1/jobs/{running['job_id']}"),
    ]
    await wait_status(client, running["job_id"], {"cancelled"})
    replies.append(await send(client, "GET", f"/v1/jobs/{running['job_id']}/result"))
    assert [reply.status for reply in replies] == [200, 409, 200, 202, 409]
    for reply in replies:
        CHECKER.assert_matches(reply)


async def test_client_errors_match_schemas(make_client: ClientFactory) -> None:
    client = await make_client(max_tokens=5, max_body_bytes=4096)
    plain = {"Content-Type": "text/plain"}
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("POST", "/v1/jobs", {"data": b"{", "headers": {"Content-Type":
                              "application/json"}}, 400),
        ("POST", "/v1/jobs", {"data": b"x", "headers": {"Content-Type":
                              "application/xml"}}, 415),
        ("POST", "/v1/jobs", {"data": b"a b c d e f g", "headers": plain}, 413),
        ("POST", "/v1/jobs", {"data": b"a" * 5000, "headers": plain}, 413),
        ("GET", "/v1/jobs?status=done", {}, 400),
        ("GET", "/v1/jobs/not-an-id", {}, 400),
        ("DELETE", "/v1/jobs/" + "0" * 32, {}, 404),
        ("GET", "/v1/jobs/" + "0" * 32 + "/result", {}, 404),
        ("GET", "/v2/jobs", {}, 404),
        ("PUT", "/v1/jobs", {}, 405),
        ("POST", "/v1/health", {}, 405),
    ]  # fmt: skip
    for method, path, kwargs, status in requests:
        reply = await send(client, method, path, **kwargs)
        assert reply.status == status, str(reply)
        CHECKER.assert_matches(reply)


async def test_queue_full_matches_schema(make_client: ClientFactory) -> None:
    client = await make_client(max_queue=2)
    blocker = await submit_text(client, SLOW + "slow")
    await wait_status(client, blocker["job_id"], {"running"})
    await submit_text(client, "one")
    await submit_text(client, "two")
    for path in ("/v1/jobs", "/v1/analyze"):
        reply = await send(client, "POST", path, json={"text": "three"})
        assert reply.status == 503, str(reply)
        CHECKER.assert_matches(reply)


async def test_analyze_responses_match_schemas(make_client: ClientFactory) -> None:
    client = await make_client(sync_timeout_s=0.3, sync_max_tokens=50)
    bodies = [
        ({"text": "short text here"}, 200),
        ({"text": "#test-engine raise_at=0\nfails"}, 409),
        # Last, because it still occupies the runner when the request returns.
        ({"text": "#test-engine chunks=10 delay_s=0.1\nslow"}, 202),
        ({"text": "word " * 60}, 413),
    ]
    for body, status in bodies:
        reply = await send(client, "POST", "/v1/analyze", json=body)
        assert reply.status == status, str(reply)
        CHECKER.assert_matches(reply)


async def test_ready_503_matches_schema(make_client: ClientFactory) -> None:
    client = await make_client(wait=False)
    reply = await send(client, "GET", "/v1/ready")
    assert reply.status == 503
    CHECKER.assert_matches(reply)


async def test_result_sent_whole_despite_ranges(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "alpha beta gamma")
    await wait_status(client, job["job_id"], {"completed"})
    path = f"/v1/jobs/{job['job_id']}/result"
    whole = await send(client, "GET", path)
    replies = [
        await send(client, "GET", path, headers={"Range": "bytes=0-9"}),
        await send(client, "GET", path, headers={"If-None-Match": "*"}),
        await send(client, "GET", path, headers={"If-Match": '"other"'}),
        await send(client, "GET", path, headers={"Range": "bytes=999999-"}),
    ]
    assert [reply.status for reply in replies] == [200, 200, 200, 200]
    assert all(reply.body == whole.body for reply in replies)
    head = await send(client, "HEAD", path)
    assert head.status == 200
    assert head.body == b""
    for reply in [*replies, head]:
        CHECKER.assert_matches(reply)


async def test_spacy_result_matches_schema(make_client: ClientFactory) -> None:
    client = await make_client(engine="spacy")
    checker = SpecChecker(build_openapi("spacy"))
    text = (DATA / "pride_and_prejudice_ch1.txt").read_text(encoding="utf-8")
    submitted = await send(client, "POST", "/v1/jobs", json={"text": text})
    job_id = submitted.json()["job_id"]
    await wait_status(client, job_id, {"completed", "failed"}, timeout_s=300)
    replies = [
        submitted,
        await send(client, "GET", f"/v1/jobs/{job_id}"),
        await send(client, "GET", f"/v1/jobs/{job_id}/result"),
        await send(client, "GET", "/v1/ready"),
    ]
    assert replies[2].status == 200, str(replies[2])
    for reply in replies:
        checker.assert_matches(reply)


async def test_checker_rejects_wrong_body(make_client: ClientFactory) -> None:
    # The checker must be able to fail, or every test above proves nothing.
    client = await make_client()
    reply = await send(client, "GET", "/v1/health")
    broken = dataclasses.replace(reply, body=b'{"status": "fine"}')
    undeclared = dataclasses.replace(reply, status=418)
    with pytest.raises(AssertionError, match="schema mismatch"):
        CHECKER.assert_matches(broken)
    with pytest.raises(AssertionError, match="undeclared status"):
        CHECKER.assert_matches(undeclared)
