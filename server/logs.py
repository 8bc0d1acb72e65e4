"""Logging setup for the entry points, and the one-line event format.

Library modules only call ``logging.getLogger(__name__)``; ``logging_config`` is
applied by ``python -m server`` and by the runner child at start.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError


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


def logging_config(level: str) -> dict[str, Any]:
    """Return a ``logging.config.dictConfig`` dict that logs to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "line": {
                "format": "%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"
            }
        },
        "filters": {"malformed": {"()": MalformedRequestFilter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["malformed"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # aiohttp's access log would add a line per status poll; job events suffice.
        "loggers": {"aiohttp.access": {"level": "WARNING"}},
    }
