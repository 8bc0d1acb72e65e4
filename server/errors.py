"""JSON errors: every failure a client sees is a JSON body with a stable code."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Codes for the errors aiohttp raises itself, before a handler runs.
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An error response: HTTP status, a short stable code and a message.

    The message names what was wrong, with the value, and what to do instead.
    ``extra`` fields are merged into the error object.
    """

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = http_status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def error_response(error: ApiError) -> web.Response:
    body = {"error": {"code": error.code, "message": error.message, **error.extra}}
    return json_response(body, error.status, error.headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error, including aiohttp's own and unexpected ones, into JSON."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_from_http_exception(request, exc))
    except Exception:
        # A bug of ours: log it with the traceback, but never send one.
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(
            ApiError(
                500,
                "internal_error",
                "the server failed to handle this request; the error is in its log",
            )
        )


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> ApiError:
    code = _HTTP_CODES.get(exc.status, "http_error")
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    if exc.status == 404:
        message = (
            f"no route for {request.method} {request.path}; the API is under /v1/, "
            "for example POST /v1/jobs"
        )
    elif exc.status == 405:
        message = f"method {request.method} is not allowed on {request.path}"
    elif exc.status == 413:
        message = (
            f"request body is larger than the limit of {request.client_max_size} "
            "bytes; split the book or raise BOOKNLP_JOBS_MAX_BODY_BYTES"
        )
    else:
        message = exc.reason
    return ApiError(exc.status, code, message, headers)
