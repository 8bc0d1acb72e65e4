"""Logging setup for the entry points, and the one-line event format.

Library modules only call ``logging.getLogger(__name__)``; ``logging_config`` is
applied by ``python -m server`` and by the runner child at start.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable

from aiohttp.http_exceptions import HttpProcessingError

REDACTED = "[REDACTED]"
# The value of a credential header, from after its name to the end of the line.
# aiohttp's parser logs a header line it rejects whole, so without this the log
# would hold a key sent with, say, a stray control character. The name may be
# followed by other characters (an escaped byte such as \x7f) and by a colon or
# a space, because the parser also rejects lines with a broken name or no colon.
_CREDENTIAL_HEADER = re.compile(
    r"(?P<name>\b(?:Authorization|X-API-Key)[^\s:]*(?:[ \t]*:[ \t]?|[ \t]))[^\r\n]+",
    re.IGNORECASE,
)
# The credential after the Bearer scheme, to the end of the line. aiohttp's
# parser logs only the start of a header value that is too long ("Got more than
# 8190 bytes when reading: b'Bearer ...'"), without the header's name.
_BEARER_VALUE = re.compile(r"(?P<name>\bBearer[ \t]+)[^\r\n]+", re.IGNORECASE)
# A configured key is redacted also where only its start appears, because
# aiohttp 3.14 logs only the first 100 bytes of a header value over its size
# limit (LineTooLong in aiohttp/_http_parser.pyx). A run of at least
# this many leading characters of a key counts. Shorter runs would match
# ordinary log text by chance and blank it. A fragment of up to 7 characters
# stays visible, which leaves 25 characters of a random 32-character key unknown.
MIN_KEY_PREFIX_CHARS = 8


def format_value(value: Any) -> str:
    """Render a value for a ``key=value`` log line, quoting text with spaces."""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    text = str(value)
    if text == "" or any(c in text for c in ' ="\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log one structured line: ``event=NAME key=value ...``.

    Lines of this shape can be grepped by job id and parsed as logfmt.
    """
    if not logger.isEnabledFor(level):
        return
    parts = [f"event={event}"]
    parts.extend(f"{key}={format_value(value)}" for key, value in fields.items())
    logger.log(level, "%s", " ".join(parts))


class MalformedRequestFilter(logging.Filter):
    """Shorten aiohttp's log of requests its HTTP parser rejects to one line.

    aiohttp logs those at ERROR with a traceback, but the fault is the
    client's, so the record becomes one WARNING line that names the error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and isinstance(exc, HttpProcessingError):
            original = record.getMessage()
            record.msg = "%s: %s"
            record.args = (original, str(exc).replace("\n", " "))
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class SecretRedactionFilter(logging.Filter):
    """Replace API keys in a log record with ``[REDACTED]``.

    It replaces what follows ``Authorization``, ``X-API-Key`` or ``Bearer`` to
    the end of the line, and every configured key, in the message and in the
    formatted traceback. A key of at least ``MIN_KEY_PREFIX_CHARS`` characters
    is also replaced where only its start appears, from that many characters
    on. Keys are matched as configured and as Python's ``repr`` escapes them in
    aiohttp's messages. A line that names either header or the scheme in prose
    loses its rest as well. Installed on the handler, it receives the records
    of every logger, aiohttp's included.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        forms = {form for secret in secrets if secret for form in _key_forms(secret)}
        # Longest first, so that a key that contains another is replaced whole.
        self._short_keys = sorted(
            (form for form in forms if len(form) < MIN_KEY_PREFIX_CHARS),
            key=len, reverse=True,
        )  # fmt: skip
        self._long_keys = [form for form in forms if len(form) >= MIN_KEY_PREFIX_CHARS]
        heads = {form[:MIN_KEY_PREFIX_CHARS] for form in self._long_keys}
        pattern = "|".join(re.escape(head) for head in sorted(heads))
        self._key_heads = re.compile(pattern) if heads else None

    def redact(self, text: str) -> str:
        text = _CREDENTIAL_HEADER.sub(rf"\g<name>{REDACTED}", text)
        text = _BEARER_VALUE.sub(rf"\g<name>{REDACTED}", text)
        text = self._redact_key_runs(text)
        for secret in self._short_keys:
            text = text.replace(secret, REDACTED)
        return text

    def _redact_key_runs(self, text: str) -> str:
        """Replace each run of ``MIN_KEY_PREFIX_CHARS`` or more leading key characters.

        At each run, the longest match among the keys wins, since keys may share
        their first characters.
        """
        if self._key_heads is None:
            return text
        parts: list[str] = []
        position = 0
        while (match := self._key_heads.search(text, position)) is not None:
            start = match.start()
            length = max(
                _common_prefix_length(text, start, key) for key in self._long_keys
            )
            parts += [text[position:start], REDACTED]
            position = start + length
        parts.append(text[position:])
        return "".join(parts)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # The arguments do not fit the format string. The handler reports
            # such a record as a logging error, with neither written out.
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _key_forms(key: str) -> set[str]:
    """Return ``key`` as configured and as ``repr`` shows it as text and as bytes."""
    as_bytes = repr(key.encode("utf-8", "surrogateescape"))[2:-1]
    return {key, repr(key)[1:-1], as_bytes}


def _common_prefix_length(text: str, start: int, key: str) -> int:
    """Return how many leading characters of ``key`` appear at ``text[start:]``."""
    length = 0
    for expected, actual in zip(key, text[start : start + len(key)]):
        if expected != actual:
            break
        length += 1
    return length


def logging_config(level: str, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Return a ``logging.config.dictConfig`` dict that logs to stderr.

    ``secrets`` are the configured API keys, which never reach the log.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "line": {
                "format": "%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"
            }
        },
        "filters": {
            "malformed": {"()": MalformedRequestFilter},
            # dictConfig passes the other keys to the factory as arguments.
            "redact": {"()": SecretRedactionFilter, "secrets": list(secrets)},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                # The malformed-request filter first, because it moves the
                # parser's error, which contains the header line, into the message.
                "filters": ["malformed", "redact"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # aiohttp's access log would add a line per status poll; job events suffice.
        "loggers": {"aiohttp.access": {"level": "WARNING"}},
    }
