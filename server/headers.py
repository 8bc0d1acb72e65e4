"""Checks of a submission that need only its request line and headers.

They run before the body is read and before the queue is checked, so that a
request that can never succeed gets its 4xx even while the queue is full,
rather than a 503 that invites a retry.
"""

from __future__ import annotations

import re

from aiohttp import web

from runner.protocol import EngineSpec
from server.charsets import text_encoding
from server.content_encoding import check_content_codings, content_codings
from server.errors import ApiError
from server.submission import check_query_encoding, check_query_options

ACCEPTED_CONTENT_TYPES = ("text/plain", "application/json")
# The charset parameter of a Content-Type header value, quoted or not.
_CHARSET_PARAMETER = re.compile(r';\s*charset\s*=\s*"?([^";]*)', re.IGNORECASE)
MAX_SHOWN_CHARS = 60


def check_submission_headers(
    request: web.Request, max_body_bytes: int, engine: EngineSpec
) -> None:
    """Reject a submission whose request line or headers are invalid.

    Checks the query's percent-encoding, the declared Content-Length against
    ``max_body_bytes``, the content type, its charset, the content codings and
    the options in the query (unknown or repeated parameters, ``model``,
    ``pipeline`` and ``book_id`` for ``engine``).

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
    sent_type = request.headers.get("Content-Type")
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        if sent_type is None:
            sent = "the request has no Content-Type header"
        else:
            sent = f"content type '{shown_header_text(sent_type)}' is not accepted"
        raise ApiError(
            415, "unsupported_media_type",
            f"{sent}; send the book as text/plain (options in the query) or "
            "application/json",
        )  # fmt: skip
    if request.charset:
        text_encoding(request.charset, _sent_charset(sent_type or ""))
    check_content_codings(content_codings(request.headers.get("Content-Encoding", "")))
    check_query_options(request.content_type, request.query, engine)


def _sent_charset(content_type: str) -> str | None:
    """Return the charset parameter as the client sent it, for messages."""
    match = _CHARSET_PARAMETER.search(content_type)
    return shown_header_text(match.group(1).strip()) if match else None


def shown_header_text(value: str) -> str:
    """Return a header value for a message, with each invalid UTF-8 byte as \\xNN.

    aiohttp (3.14) decodes header bytes as UTF-8 and keeps an invalid byte as a lone
    surrogate (U+DC80 to U+DCFF), as Python's surrogateescape error handler
    does.
    """
    text = "".join(
        f"\\x{ord(char) - 0xDC00:02x}" if "\udc80" <= char <= "\udcff" else char
        for char in value[:MAX_SHOWN_CHARS]
    )
    return text + ("..." if len(value) > MAX_SHOWN_CHARS else "")
