"""Checks of a submission that need only its request line and headers.

They run before the body is read and before the queue is checked, so that a
request that can never succeed gets its 4xx even while the queue is full,
rather than a 503 that invites a retry.
"""

from __future__ import annotations

from aiohttp import web

from server.charsets import text_encoding
from server.content_encoding import check_content_codings, content_codings
from server.errors import ApiError
from server.submission import check_query_encoding

ACCEPTED_CONTENT_TYPES = ("text/plain", "application/json")


def check_submission_headers(request: web.Request, max_body_bytes: int) -> None:
    """Reject a submission whose request line or headers are invalid.

    Checks the query's percent-encoding, the declared Content-Length against
    ``max_body_bytes``, the content type, its charset and the content codings.

    Raises:
        ApiError: 400, 413 or 415 for the first check that fails.
    """
    check_query_encoding(request.rel_url.raw_query_string)
    declared = request.content_length
    if declared is not None and declared > max_body_bytes:
        raise ApiError(
            413, "body_too_large",
            f"request body of {declared} bytes is larger than the limit of "
            f"{max_body_bytes} bytes; split the book or raise "
            "BOOKNLP_JOBS_MAX_BODY_BYTES",
        )  # fmt: skip
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        raise ApiError(
            415, "unsupported_media_type",
            f"content type {request.content_type!r} is not accepted; send the book "
            "as text/plain (options in the query) or application/json",
        )  # fmt: skip
    if request.charset:
        text_encoding(request.charset)
    check_content_codings(content_codings(request.headers.get("Content-Encoding", "")))
