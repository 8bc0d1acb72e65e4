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

    It replaces what follows ``Authorization`` or ``X-API-Key`` to the end of
    the line, and every occurrence of a configured key, in the message and in
    the formatted traceback. A line that names either header in prose loses its
    rest as well. Installed on the handler, it receives the records of
    every logger, aiohttp's included.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so that a key that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        text = _CREDENTIAL_HEADER.sub(rf"\g<name>{REDACTED}", text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

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
