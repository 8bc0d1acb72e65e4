"""BookNLP's console output and ``sys.exit`` calls, turned into logs and exceptions.

BookNLP 1.0.8 reports through ``print`` (timings, the options it received, and
the reason just before each ``sys.exit(1)`` on a bad option). Nothing reads the
runner child's stdout, so each printed line becomes a log record, and the last
lines are kept to explain a ``SystemExit``.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
from collections.abc import Iterator

logger = logging.getLogger("booknlp")

# Lines kept for the message of a SystemExit; BookNLP prints its reason on the
# line just before the call.
_KEPT_LINES = 5


class BookNLPExit(Exception):
    """BookNLP called ``sys.exit``. The message contains the last line it printed."""

    def __init__(self, code: object, printed: list[str]) -> None:
        self.code = code
        self.printed = printed
        reason = printed[-1] if printed else "it printed no reason"
        super().__init__(f"BookNLP called sys.exit({code!r}) after printing: {reason}")

    @property
    def reason(self) -> str:
        """Return the last line BookNLP printed before exiting, or an empty string."""
        return self.printed[-1] if self.printed else ""


class _LogWriter(io.TextIOBase):
    """A text stream that logs each complete line and keeps the last few."""

    def __init__(self) -> None:
        self.recent: collections.deque[str] = collections.deque(maxlen=_KEPT_LINES)
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._log(line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._log(self._pending)
            self._pending = ""

    def _log(self, line: str) -> None:
        line = line.rstrip()
        if line:
            self.recent.append(line)
            logger.info("%s", line)


@contextlib.contextmanager
def booknlp_console() -> Iterator[None]:
    """Log what BookNLP prints, and raise ``BookNLPExit`` when it calls sys.exit.

    Raises:
        BookNLPExit: code inside the block raised ``SystemExit``.
    """
    writer = _LogWriter()
    try:
        with contextlib.redirect_stdout(writer):
            yield
    except SystemExit as exit_call:
        writer.flush()
        raise BookNLPExit(exit_call.code, list(writer.recent)) from exit_call
    finally:
        writer.flush()
