"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /v1/openapi.json``.

Enums (pipeline components, models, job statuses, engines) are read from
``runner.protocol``, ``server.jobs`` and ``server.submission``, so a new component
or status appears here without an edit. ``tests/test_openapi.py`` checks that
every route on the app is described and that real responses match the schemas.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from runner.protocol import ALL_COMPONENTS, ENGINES, EngineSpec
from server.auth import OPEN_PATHS, STATUS_PATHS
from server.jobs import JobStatus
from server.submission import (
    COMPONENT_ALIASES,
    MAX_BOOK_ID_CHARS,
    QUERY_FIELDS,
    banned_book_id_ranges,
    category_ranges,
)

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.0"
JOB_ID_PATTERN = "^[0-9a-f]{32}$"


def text_pattern() -> str:
    """Return a pattern for a text that the service does not reject as empty.

    The service rejects a text that contains NUL, or only white space and
    invisible format characters (Unicode category Cf, the byte-order mark
    included). It also rejects a text whose Project Gutenberg marker lines
    enclose only those, which no pattern here describes.
    """
    invisible = "".join(
        _pattern_range(first, last)
        for first, last in category_ranges(frozenset({"Cf"}))
    )
    return f"^[^\\u0000]*[^\\s\\u0000{invisible}][^\\u0000]*$"


def book_id_pattern() -> str:
    """Return a pattern that rejects the characters parse_body rejects in a book_id.

    Code points above U+FFFF are written as themselves, because JSON Schema
    patterns follow ECMA-262, where the escape for them differs from Python's.
    """
    parts = [_pattern_range(first, last) for first, last in banned_book_id_ranges()]
    return f"^[^{''.join(parts)}]*$"


def _pattern_range(first: int, last: int) -> str:
    start, end = _pattern_char(first), _pattern_char(last)
    return start if first == last else f"{start}-{end}"


def _pattern_char(point: int) -> str:
    return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)

SUBMISSION_400_CODES = (
    "invalid_json", "invalid_field", "missing_field", "empty_text", "invalid_text",
    "invalid_utf8", "invalid_encoding", "invalid_charset", "invalid_option",
    "invalid_body", "upload_incomplete",
)  # fmt: skip


def build_openapi(engine: str) -> Schema:
    """Build the OpenAPI document for a service that runs ``engine``.

    Pipeline and model enums list what that engine accepts, because the service
    rejects the other components of ``ALL_COMPONENTS`` with 400.

    Raises:
        KeyError: ``engine`` is not in ``runner.protocol.ENGINES``.
    """
    spec = ENGINES[engine]
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info(engine, spec),
        # Keys are required only when the operator configures them, so the empty
        # requirement (no key) is listed too.
        "security": [{"bearerKey": []}, {"headerKey": []}, {}],
        "paths": _add_security(_paths()),
        "components": {
            "schemas": _schemas(spec),
            "responses": _shared_responses(),
            "parameters": _parameters(spec),
            "headers": _headers(),
            "securitySchemes": _security_schemes(),
        },
    }


def _info(engine: str, spec: EngineSpec) -> Schema:
    try:
        version = importlib.metadata.version("booknlp-jobs")
    except importlib.metadata.PackageNotFoundError:
        # Running from a checkout that was never pip-installed.
        version = "unknown"
    return {
        "title": "booknlp-jobs",
        "version": version,
        "summary": "BookNLP-style analysis of whole books as asynchronous HTTP jobs.",
        "description": (
            f"This server runs the `{engine}` engine: {spec.description}. "
            "Every error is a JSON object `{\"error\": {\"code\", \"message\", ...}}`, "
            "including the `NotFound` (404) and `MethodNotAllowed` (405) responses "
            "that aiohttp produces for unknown paths and methods, which are listed "
            "under `components.responses`. When the operator sets API keys, "
            f"every path except {' and '.join(sorted(OPEN_PATHS))} requires one "
            "and returns 401 without it, although the operator may leave "
            f"{' and '.join(sorted(STATUS_PATHS))} open (protect_status). "
            "HEAD is accepted on every GET path and returns the GET headers "
            "without a body. A result is always sent whole with 200: Range and "
            "conditional headers are ignored."
            # NOTE: the exception below is a known gap, tested as a strict xfail
            # in tests/test_fuzz.py.
            " One kind of error is not JSON yet: a request that aiohttp's HTTP "
            "parser rejects before routing (for example a request line over "
            "8190 bytes) gets 400 with a text/plain body."
        ),
    }


# ---------------------------------------------------------------- references


def _ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema_ref(name: str) -> Schema:
    return _ref("schemas", name)


def _json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _response(description: str, schema: Schema, **headers: Schema) -> Schema:
    response: Schema = {"description": description, "content": _json_content(schema)}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, *codes: str, **headers: Schema) -> Schema:
    """Return an error response whose ``error.code`` is one of ``codes``."""
    schema = {
        "allOf": [_schema_ref("Error")],
        "properties": {"error": {"properties": {"code": {"enum": list(codes)}}}},
    }
    return _response(description, schema, **headers)


# ------------------------------------------------------------------- schemas


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: Schema, optional: Schema | None = None, **extra: Any) -> Schema:
    """Return an object schema; ``required`` and ``optional`` map names to schemas."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        **extra,
    }


def _count() -> Schema:
    return {"type": "integer", "minimum": 0}


def _component_names(spec: EngineSpec) -> list[str]:
    """Return the engine's components followed by BookNLP aliases for them."""
    aliases = [
        alias
        for alias, target in COMPONENT_ALIASES.items()
        if target in spec.components
    ]
    return list(spec.components) + aliases


def _schemas(spec: EngineSpec) -> Schema:
    return {
        "Error": _error_schema(),
        "SubmitRequest": _submit_request_schema(spec),
        "BookText": _text_schema(),
        "Job": _job_schema(spec),
        "JobError": _object(
            {"code": {"type": "string"}, "message": {"type": "string"}},
            additionalProperties={"type": "string"},
        ),
        "JobList": _object(
            {"jobs": {"type": "array", "items": _schema_ref("Job")}, "count": _count()},
            additionalProperties=False,
        ),
        "Stats": _stats_schema(),
        "Health": _object(
            {"status": {"const": "ok"}, "uptime_s": {"type": "number", "minimum": 0}},
            additionalProperties=False,
        ),
        "Ready": _ready_schema(),
        "Result": _result_schema(),
        "OpenApiDocument": _object(
            {"openapi": {"const": OPENAPI_VERSION}, "info": {"type": "object"},
             "paths": {"type": "object"}},
        ),  # fmt: skip
    }


def _error_schema() -> Schema:
    # Extra fields (field, offset, tokens, limit, status, ...) depend on the code.
    detail = _object(
        {"code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
         "message": {"type": "string", "minLength": 1}},
    )  # fmt: skip
    return _object({"error": detail}, additionalProperties=False)


def _text_schema() -> Schema:
    return {
        "type": "string",
        "pattern": text_pattern(),
        "description": (
            "The book. A leading byte-order mark is removed, and character offsets "
            "in the result index the text after it. The front estimates tokens "
            "and rejects a text over the token limit with 413. A text whose "
            "Project Gutenberg START and END marker lines enclose only white "
            "space is rejected with 400 empty_text, because only that part is "
            "analysed."
        ),
    }


def _submit_request_schema(spec: EngineSpec) -> Schema:
    names = _component_names(spec)
    pipeline_list = {
        "type": "array", "items": {"enum": names}, "minItems": 1,
    }  # fmt: skip
    return _object(
        {"text": _schema_ref("BookText")},
        {
            "book_id": _nullable(_book_id_schema()),
            "pipeline": {
                "anyOf": [pipeline_list, {"type": "null"}],
                "description": (
                    "Components to compute; all of the engine's when missing. "
                    "BookNLP's names are accepted as aliases."
                ),
            },
            "model": {"enum": [*spec.models, None]},
        },
        additionalProperties=False,
    )


def _book_id_schema() -> Schema:
    return {
        "type": "string",
        "maxLength": MAX_BOOK_ID_CHARS,
        "pattern": book_id_pattern(),
        "description": "The client's label, copied into the status and the result.",
    }


def _timestamp() -> Schema:
    return {"type": "string", "format": "date-time"}


def _job_schema(spec: EngineSpec) -> Schema:
    return _object(
        {
            "job_id": {"type": "string", "pattern": JOB_ID_PATTERN},
            "book_id": _nullable({"type": "string"}),
            "status": {"enum": [status.value for status in JobStatus]},
            "progress": {"type": "number", "minimum": 0, "maximum": 100},
            "stage": _nullable({"type": "string"}),
            "tokens_done": _count(),
            "tokens_total": _count(),
            "queue_position": _nullable({"type": "integer", "minimum": 1}),
            "model": {"enum": list(spec.models)},
            "components": {"type": "array", "items": {"enum": list(spec.components)}},
            "submitted_at": _timestamp(),
            "started_at": _nullable(_timestamp()),
            "finished_at": _nullable(_timestamp()),
            "cancel_requested": {"type": "boolean"},
            "attempts": {
                "type": "integer", "minimum": 0,
                "description": "How many times the job was handed to a runner child.",
            },
            "stats": {
                "type": "object",
                "description": "Figures the engine and the front recorded for the "
                "run, for example tokens and peak_child_mb.",
            },
            "error": _nullable(_schema_ref("JobError")),
        },
        additionalProperties=False,
    )


def _stats_schema() -> Schema:
    counts_by_status = _object(
        {status.value: _count() for status in JobStatus}, additionalProperties=False
    )
    limits = _object(
        {
            "max_queue": {"type": "integer", "minimum": 1},
            "max_tokens": {"type": "integer", "minimum": 1},
            "max_body_bytes": {"type": "integer", "minimum": 1},
            "result_ttl_s": {"type": "number", "exclusiveMinimum": 0},
            "sync_max_tokens": {"type": "integer", "minimum": 1},
            "sync_timeout_s": {"type": "number", "exclusiveMinimum": 0},
        },
        additionalProperties=False,
    )
    queue = _object(
        {
            "waiting": _count(),
            "limit": {"type": "integer", "minimum": 1},
            # Another API key's running job shows as busy with running null.
            "running": _nullable({"type": "string", "pattern": JOB_ID_PATTERN}),
            "busy": {"type": "boolean"},
        },
        additionalProperties=False,
    )
    child = _object(
        {"pid": _nullable({"type": "integer"}), "ready": {"type": "boolean"},
         "restarts": _count()},
        additionalProperties=False,
    )  # fmt: skip
    return _object(
        {
            "queue": queue,
            "jobs": counts_by_status,
            # Keys are finished job statuses and child_death, each present once it
            # has happened.
            "outcomes": {
                "type": "object", "additionalProperties": _count(),
                "description": (
                    "Finished jobs by status, and runner child deaths, since "
                    "the service started. With API keys, only the caller's "
                    "jobs count, and only the child deaths during them."
                ),
            },
            "child": child,
            "limits": limits,
        },
        additionalProperties=False,
    )


def _ready_schema() -> Schema:
    # The body is the engine's describe() plus child_pid; engines may add keys.
    return _object(
        {
            "ready": {"const": True},
            "engine": {"enum": sorted(ENGINES)},
            "components": {"type": "array", "items": {"enum": list(ALL_COMPONENTS)}},
            "models": {"type": "array", "items": {"type": "string"}},
            "device": {"enum": ["cpu", "cuda"]},
            "cuda_device": _nullable({"type": "string"}),
            "versions": {"type": "object", "additionalProperties": {"type": "string"}},
            "child_pid": {"type": "integer"},
        }
    )


def _result_schema() -> Schema:
    sections = {name: {"type": "array"} for name in ALL_COMPONENTS}
    sections["tokens"] = {"type": "array", "items": _token_schema()}
    sections["entities"] = {"type": "array", "items": _entity_schema()}
    sections["quotes"] = {"type": "array", "items": _quote_schema()}
    sections["characters"] = {"type": "array", "items": _character_schema()}
    sections["events"] = {"type": "array", "items": _event_schema()}
    span = {
        "type": "array", "prefixItems": [_count(), _count()], "items": False,
        "description": "Character offsets [start, end) of the part analysed.",
    }  # fmt: skip
    text = _object(
        {"chars": _count(), "tokens": _count()},
        {"sentences": _count(), "paragraphs": _count(), "analysed_span": span,
         "boilerplate_removed": {"type": "boolean"}},
    )  # fmt: skip
    # Engines add keys of their own (timings, run records), so the object is open.
    return _object(
        {
            "job_id": {"type": "string", "pattern": JOB_ID_PATTERN},
            "book_id": _nullable({"type": "string"}),
            "engine": {"enum": sorted(ENGINES)},
            "model": {"type": "string"},
            "components": {"type": "array", "items": {"enum": list(ALL_COMPONENTS)}},
            "device": {"type": "string"},
            "text": text,
            **sections,
        },
        {"timings": {"type": "object"}},
    )


def _offsets() -> Schema:
    return {"start": _count(), "end": _count()}


def _token_schema() -> Schema:
    # The scripted test engine writes only token_id, word, start and end.
    return _object(
        {"token_id": _count(), "word": {"type": "string"}, **_offsets()},
        {
            "paragraph_id": _count(),
            "sentence_id": _count(),
            "token_id_in_sentence": _count(),
            "lemma": {"type": "string"},
            "pos": {"type": "string"},
            "fine_pos": {"type": "string"},
            "dep": {"type": "string"},
            "head": _count(),
            # Written only by models that compute events.
            "event": {"type": "boolean"},
        },
    )


def _event_schema() -> Schema:
    return _object({"token_id": _count(), **_offsets(), "text": {"type": "string"}})


def _entity_schema() -> Schema:
    return _object(
        {
            "start_token": _count(),
            "end_token": _count(),
            **_offsets(),
            "text": {"type": "string"},
            "category": {"type": "string"},
            "mention_type": {"type": "string"},
            "character_id": _nullable(_count()),
        }
    )


def _quote_schema() -> Schema:
    speaker = _object({"character_id": _count(), "name": {"type": "string"}})
    return _object(
        {
            "quote_id": _count(),
            "start_token": _count(),
            "end_token": _count(),
            **_offsets(),
            "text": {"type": "string"},
            "speaker": _nullable(speaker),
            "speaker_token": _nullable(_count()),
        }
    )


def _character_schema() -> Schema:
    gender = _object(
        {
            "argmax": _nullable({"type": "string"}),
            # Pronoun set ("he/him/his", ...) to its share of the evidence.
            "inference": {"type": "object", "additionalProperties": {"type": "number"}},
            "evidence": _count(),
        }
    )
    mention_span = {
        "type": "array", "prefixItems": [_count(), _count()], "items": False,
        "description": "First and last token id of the mention.",
    }  # fmt: skip
    return _object(
        {
            "character_id": _count(),
            "name": {"type": "string"},
            "names": {
                "type": "object", "additionalProperties": _count(),
                "description": "Each proper name used for the character, with "
                "its count.",
            },
            "mention_count": _count(),
            "proper_count": _count(),
            "pronoun_count": _count(),
            "gender": gender,
            "mentions": {"type": "array", "items": mention_span},
        },
        {"nominal_count": _count()},
    )  # fmt: skip


# ---------------------------------------------------- parameters and headers


def _parameters(spec: EngineSpec) -> Schema:
    text_plain_only = (
        " Read only with a text/plain body; with a JSON body any query parameter "
        "is rejected with 400."
    )
    return {
        "JobId": {
            "name": "job_id", "in": "path", "required": True,
            "description": "32 hexadecimal digits as returned by POST /v1/jobs; "
            "any other string is rejected with 400 invalid_job_id.",
            "schema": {"type": "string", "pattern": JOB_ID_PATTERN},
        },
        "BookId": {
            "name": "book_id", "in": "query",
            "description": "The client's label." + text_plain_only,
            "schema": _book_id_schema(),
        },
        "Pipeline": {
            "name": "pipeline", "in": "query", "style": "form", "explode": False,
            "description": "Comma-separated components." + text_plain_only,
            "schema": {
                "type": "array", "items": {"enum": _component_names(spec)},
                "minItems": 1,
            },
        },
        "Model": {
            "name": "model", "in": "query",
            "description": "Model name." + text_plain_only,
            "schema": {"enum": list(spec.models)},
        },
    }  # fmt: skip


def _headers() -> Schema:
    return {
        "Location": {
            "description": "The job's status URL.",
            "required": True,
            "schema": {"type": "string", "pattern": "^/v1/jobs/[0-9a-f]{32}$"},
        },
        "RetryAfter": {
            "description": "Estimated seconds until a queue slot frees or the "
            "service has restarted.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
        "Allow": {
            "description": "The methods the path accepts, comma-separated.",
            "required": True,
            "schema": {"type": "string"},
        },
        "WwwAuthenticate": {
            "description": "The Bearer challenge.",
            "required": True,
            "schema": {"type": "string", "pattern": "^Bearer "},
        },
    }


def _shared_responses() -> Schema:
    return {
        "NotFound": _error("No route for this path.", "not_found"),
        "MethodNotAllowed": _error(
            "The path exists but does not accept this method.",
            "method_not_allowed",
            Allow=_ref("headers", "Allow"),
        ),
        "InternalError": _error(
            "A bug in the service; it logged the traceback.", "internal_error"
        ),
        "BadJobId": _error(
            "The job id is not 32 hexadecimal digits.", "invalid_job_id"
        ),
        "JobNotFound": _error(
            "No such job, it expired after the result TTL, or it belongs to "
            "another API key.",
            "job_not_found",
        ),
        "Unauthorized": _error(
            "The API key is missing or not valid, or the request carries two "
            "different keys.",
            "unauthorized",
            **{"WWW-Authenticate": _ref("headers", "WwwAuthenticate")},
        ),
    }


def _security_schemes() -> Schema:
    return {
        "bearerKey": {"type": "http", "scheme": "bearer",
                      "description": "Authorization: Bearer KEY"},
        "headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }  # fmt: skip


# --------------------------------------------------------------------- paths


def _add_security(paths: Schema) -> Schema:
    """Mark the open paths as needing no key; give the others a 401 response."""
    for path, item in paths.items():
        for name, operation in item.items():
            if name == "parameters":
                continue
            if path in OPEN_PATHS:
                operation["security"] = []
            else:
                operation["responses"]["401"] = _ref("responses", "Unauthorized")
    return paths


def _paths() -> Schema:
    return {
        "/v1/jobs": {"post": _submit_operation(), "get": _list_operation()},
        "/v1/jobs/stats": {"get": _stats_operation()},
        "/v1/jobs/{job_id}": {
            "parameters": [_ref("parameters", "JobId")],
            "get": _status_operation(),
            "delete": _cancel_operation(),
        },
        "/v1/jobs/{job_id}/result": {
            "parameters": [_ref("parameters", "JobId")],
            "get": _result_operation(),
        },
        "/v1/jobs/{job_id}/booknlp.zip": {
            "parameters": [_ref("parameters", "JobId")],
            "get": _native_archive_operation(),
        },
        "/v1/analyze": {"post": _analyze_operation()},
        "/v1/health": {"get": _health_operation()},
        "/v1/ready": {"get": _ready_operation()},
        "/v1/openapi.json": {"get": _openapi_operation()},
        "/metrics": {"get": _metrics_operation()},
    }


def _submission_request() -> Schema:
    return {
        "required": True,
        "description": (
            "The body may be compressed with Content-Encoding gzip or deflate. "
            "A text/plain body is decoded with the charset its Content-Type "
            "names, or as UTF-8."
        ),
        "content": {
            "application/json": {"schema": _schema_ref("SubmitRequest")},
            "text/plain": {"schema": _schema_ref("BookText")},
        },
    }


def _submission_parameters() -> list[Schema]:
    names = {"book_id": "BookId", "pipeline": "Pipeline", "model": "Model"}
    return [_ref("parameters", names[field]) for field in QUERY_FIELDS]


def _accepted_job() -> Schema:
    return _response(
        "The job is queued; poll the Location.",
        _schema_ref("Job"),
        Location=_ref("headers", "Location"),
    )


def _submission_errors() -> Schema:
    return {
        "400": _error("Invalid text or options.", *SUBMISSION_400_CODES),
        "413": _error(
            "Over the token limit, or the body (also once decompressed) is over "
            "max_body_bytes.",
            "too_many_tokens", "body_too_large",
        ),
        "408": _error(
            "The body did not arrive within upload_timeout_s.", "upload_timed_out"
        ),
        "415": _error(
            "The body is neither application/json nor text/plain, or its "
            "Content-Encoding is not gzip, deflate or identity.",
            "unsupported_media_type", "unsupported_content_encoding",
        ),
        "500": _ref("responses", "InternalError"),
        "503": _error(
            "max_queue or more jobs are already waiting, max_concurrent_uploads "
            "bodies are being read, the service is shutting down, the runner has "
            "failed to load its engine several times in a row, or the text could "
            "not be written to the state folder. Invalid headers (content type, "
            "charset, Content-Encoding, a Content-Length over max_body_bytes) and "
            "invalid query options get their 4xx first, but a body that is "
            "invalid (such as malformed JSON) may get 503 too while the queue is "
            "full.",
            "queue_full", "shutting_down", "too_many_uploads", "engine_unavailable",
            "storage_error",
            **{"Retry-After": _ref("headers", "RetryAfter")},
        ),
    }


def _submit_operation() -> Schema:
    return {
        "operationId": "submit_job",
        "summary": "Queue a book for analysis.",
        "parameters": _submission_parameters(),
        "requestBody": _submission_request(),
        "responses": {"202": _accepted_job(), **_submission_errors()},
    }


def _analyze_operation() -> Schema:
    return {
        "operationId": "analyze",
        "summary": "Analyse a short document and wait for the result.",
        "description": (
            "Waits up to sync_timeout_s. A job that takes longer is handed over "
            "as with POST /v1/jobs: 202 and a Location to poll. 413 over "
            "sync_max_tokens, or over max_tokens when that is lower."
        ),
        "parameters": _submission_parameters(),
        "requestBody": _submission_request(),
        "responses": {
            "200": _response("The finished analysis.", _schema_ref("Result")),
            "202": _accepted_job(),
            "404": _error("The result file was deleted outside the service.",
                          "result_missing"),
            "409": _error("The job failed or was cancelled.", "job_failed",
                          "job_cancelled"),
            **_submission_errors(),
            "503": _error(
                "As for POST /v1/jobs (see there), or the result file cannot "
                "be read.",
                "queue_full", "shutting_down", "too_many_uploads",
                "engine_unavailable", "storage_error", "result_unreadable",
                **{"Retry-After": _ref("headers", "RetryAfter")},
            ),
        },
    }  # fmt: skip


def _result_unreadable() -> Schema:
    return _error(
        "The result file cannot be read: it is not a regular file, or the "
        "service's user may not read it. Its operator must fix it, or the book "
        "be submitted again.",
        "result_unreadable",
    )  # fmt: skip


def _list_operation() -> Schema:
    return {
        "operationId": "list_jobs",
        "summary": "List the jobs held, in submission order.",
        "parameters": [
            {
                "name": "status",
                "in": "query",
                "schema": {"enum": [status.value for status in JobStatus]},
            }
        ],
        "responses": {
            "200": _response("The jobs.", _schema_ref("JobList")),
            "400": _error("Unknown status filter.", "invalid_option"),
            "500": _ref("responses", "InternalError"),
        },
    }


def _stats_operation() -> Schema:
    return {
        "operationId": "job_stats",
        "summary": "Queue size and limit, counts by status, child state, limits.",
        "responses": {
            "200": _response("The statistics.", _schema_ref("Stats")),
            "500": _ref("responses", "InternalError"),
        },
    }


def _job_errors() -> Schema:
    return {
        "400": _ref("responses", "BadJobId"),
        "404": _ref("responses", "JobNotFound"),
        "500": _ref("responses", "InternalError"),
    }


def _status_operation() -> Schema:
    return {
        "operationId": "job_status",
        "summary": "Status and progress of one job.",
        "responses": {
            "200": _response("The job.", _schema_ref("Job")),
            **_job_errors(),
        },
    }


def _cancel_operation() -> Schema:
    return {
        "operationId": "cancel_job",
        "summary": "Cancel a pending or running job.",
        "responses": {
            "200": _response("The pending job is cancelled.", _schema_ref("Job")),
            "202": _response(
                "The running job was asked to stop; it stops within one chunk.",
                _schema_ref("Job"),
            ),
            **_job_errors(),
            "409": _error("The job has already finished.", "job_finished"),
        },
    }


def _result_operation() -> Schema:
    return {
        "operationId": "job_result",
        "summary": "The analysis of a completed job.",
        "responses": {
            "200": _response("The analysis.", _schema_ref("Result")),
            **_job_errors(),
            "404": _error("The job is unknown or expired, or its result file was "
                          "deleted outside the service.", "job_not_found",
                          "result_missing"),
            "409": _error("The job failed or was cancelled.", "job_failed",
                          "job_cancelled"),
            "425": _error("The job is pending or running.", "job_not_finished"),
            "503": _result_unreadable(),
        },
    }  # fmt: skip


def _native_archive_operation() -> Schema:
    archive = {"type": "string", "contentMediaType": "application/zip"}
    return {
        "operationId": "job_native_archive",
        "summary": "BookNLP's own output files of a completed job, as one zip.",
        "description": "Only jobs of the booknlp engine have them: the .tokens, "
        ".entities, .quotes, .supersense, .book and .book.html files that the "
        "job's pipeline wrote, named after the job id.",
        "responses": {
            "200": {"description": "The archive.",
                    "content": {"application/zip": {"schema": archive}}},
            **_job_errors(),
            "404": _error("The job is unknown or expired, its engine wrote no "
                          "BookNLP files, or its result file was deleted outside "
                          "the service.", "job_not_found", "no_native_output",
                          "result_missing"),
            "409": _error("The job failed or was cancelled.", "job_failed",
                          "job_cancelled"),
            "425": _error("The job is pending or running.", "job_not_finished"),
            "503": _result_unreadable(),
        },
    }  # fmt: skip


def _health_operation() -> Schema:
    return {
        "operationId": "health",
        "summary": "The front process is alive.",
        "responses": {
            "200": _response("Alive.", _schema_ref("Health")),
            "500": _ref("responses", "InternalError"),
        },
    }


def _ready_operation() -> Schema:
    return {
        "operationId": "ready",
        "summary": "The runner child has loaded its engine.",
        "responses": {
            "200": _response("Ready, with the engine's description.",
                             _schema_ref("Ready")),
            "500": _ref("responses", "InternalError"),
            "503": _error(
                "The child is starting or restarting, or the service is shutting "
                "down.",
                "not_ready",
            ),
        },
    }  # fmt: skip


def _openapi_operation() -> Schema:
    return {
        "operationId": "openapi_description",
        "summary": "This document.",
        "responses": {
            "200": _response("The OpenAPI description.",
                             _schema_ref("OpenApiDocument")),
            "500": _ref("responses", "InternalError"),
        },
    }  # fmt: skip


def _metrics_operation() -> Schema:
    return {
        "operationId": "metrics",
        "summary": "Prometheus metrics: queue, jobs, child restarts and memory.",
        "responses": {
            "200": {
                "description": "Prometheus text exposition format 0.0.4.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "500": _ref("responses", "InternalError"),
        },
    }
