"""Decode a request body sent with a ``Content-Encoding``.

The server turns aiohttp's own decompression off and decodes here, because
aiohttp rejects a corrupt body in its HTTP parser, before any middleware runs,
with a text/plain 400 and an error in the log. Decoding here gives every
failure a JSON error that names what to send instead, and bounds the decoded
size so that a small compressed body cannot expand past the body limit.
"""

from __future__ import annotations

import zlib

from server.errors import ApiError

# Decoded in steps of this many bytes so that the size limit is checked as the
# output grows, not after a decompression bomb has filled memory.
STEP_BYTES = 1 << 20
SUPPORTED_CODINGS = ("gzip", "x-gzip", "deflate")
# zlib window bits: a gzip header, a zlib header, or raw deflate data.
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_WBITS = -zlib.MAX_WBITS


def content_codings(header: str) -> list[str]:
    """Return the codings named in a ``Content-Encoding`` header, in order."""
    codings = [part.strip().lower() for part in header.split(",")]
    return [coding for coding in codings if coding and coding != "identity"]


def check_content_codings(codings: list[str]) -> None:
    """Raise ApiError 415 for a coding other than gzip, x-gzip and deflate."""
    for coding in codings:
        if coding not in SUPPORTED_CODINGS:
            raise ApiError(
                415, "unsupported_content_encoding",
                f"Content-Encoding {coding!r} is not supported; send the text "
                "uncompressed, or compressed with gzip or deflate",
            )  # fmt: skip


def decode_body(body: bytes, header: str, limit: int) -> bytes:
    """Return ``body`` with the codings of ``header`` undone, in reverse order.

    ``x-gzip`` counts as ``gzip``. ``deflate`` is read as zlib data, or as raw
    deflate data when it has no zlib header, since some clients send that.

    Raises:
        ApiError: 415 for a coding other than gzip and deflate, 400 for a body
            that is not valid data of its coding, and 413 when the decoded body
            is larger than ``limit`` bytes.
    """
    codings = content_codings(header)
    check_content_codings(codings)
    for coding in reversed(codings):
        if coding == "deflate":
            wbits = _ZLIB_WBITS if _has_zlib_header(body) else _RAW_WBITS
        else:
            wbits = _GZIP_WBITS
        body = _inflate(body, wbits, coding, limit)
    return body


def _has_zlib_header(data: bytes) -> bool:
    # RFC 1950: compression method 8 in the low nibble, and a header checksum.
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _inflate(data: bytes, wbits: int, coding: str, limit: int) -> bytes:
    """Decompress ``data`` step by step, member after member for gzip."""
    parts: list[bytes] = []
    size = 0
    pending = data
    try:
        while pending:
            decompressor = zlib.decompressobj(wbits)
            while not decompressor.eof:
                chunk = decompressor.decompress(pending, STEP_BYTES)
                pending = decompressor.unconsumed_tail
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        413, "body_too_large",
                        f"request body decompresses to more than the limit of "
                        f"{limit} bytes; split the book or raise "
                        "BOOKNLP_JOBS_MAX_BODY_BYTES",
                    )  # fmt: skip
                parts.append(chunk)
                if not chunk and not pending and not decompressor.eof:
                    raise ApiError(
                        400, "invalid_body",
                        f"request body is incomplete {coding} data: it ends "
                        "inside the compressed stream; send the whole file, or "
                        "send the text uncompressed",
                    )  # fmt: skip
            # A gzip file may contain several members one after another, and
            # some tools pad it with zero bytes.
            pending = decompressor.unused_data if wbits == _GZIP_WBITS else b""
            if not pending.strip(b"\0"):
                pending = b""
    except zlib.error as exc:
        raise ApiError(
            400, "invalid_body",
            f"request body is not valid {coding} data ({exc}); send the text "
            f"uncompressed, or compress it with {coding} again",
        ) from None  # fmt: skip
    return b"".join(parts)
