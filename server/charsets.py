"""Character encodings that a text/plain or JSON body may name as its charset."""

from __future__ import annotations

import codecs

from server.errors import ApiError

# Names (as codecs.lookup returns them) of Python codecs that decode bytes to
# text but are not character encodings: the escape-sequence codecs, IDNA and
# Punycode for host names, charmap (which needs a mapping table) and undefined
# (which always raises). Bytes-to-bytes codecs such as base64 have
# _is_text_encoding False instead.
NON_CHARSET_CODECS = frozenset(
    {"charmap", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"}
)
CHARSET_ADVICE = (
    "convert the text to UTF-8 and send charset=utf-8, or name the encoding the "
    "text is in, such as latin-1, windows-1252, utf-16 or shift_jis"
)


def text_encoding(charset: str, sent: str | None = None) -> str:
    """Return Python's codec name for ``charset``, a character encoding.

    ``sent`` is the charset as the client sent it, for the error message. It
    differs from ``charset`` when aiohttp has replaced bytes that are not
    UTF-8 with U+FFFD.

    Raises:
        ApiError: 400 invalid_charset when ``charset`` names no codec, or a
            codec that is not a character encoding (such as unicode_escape).
    """
    charset_text = (sent or charset)[:40]
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        raise ApiError(
            400, "invalid_charset",
            f"charset '{charset_text}' in the Content-Type header is not a known "
            f"text encoding; {CHARSET_ADVICE}",
            charset=charset_text,
        ) from None  # fmt: skip
    if not codec._is_text_encoding or codec.name in NON_CHARSET_CODECS:
        raise ApiError(
            400, "invalid_charset",
            f"charset '{charset_text}' in the Content-Type header names a Python "
            f"codec that is not a text encoding; {CHARSET_ADVICE}",
            charset=charset_text,
        )  # fmt: skip
    return codec.name
