"""Exit statuses of submit.py and the errors that main reports in one line."""

from __future__ import annotations

from typing import Optional

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
EXIT_CANCELLED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An expected failure that main reports in one line, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ApiError(CliError):
    """An HTTP error response, with the server's error code and Retry-After.

    ``field`` is the request field that the server named as invalid, if any.
    """

    def __init__(
        self,
        message: str,
        status: int,
        code: str,
        retry_after: Optional[float],
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.field = field


class ConnectionFailed(CliError):
    """A request that got no complete HTTP response: refused, reset or timed out."""


class RequestTimedOut(ConnectionFailed):
    """A request that passed one of its own time limits, with or without --timeout.

    ``connected`` is False when the connect timed out, so the server got nothing.
    """

    def __init__(self, message: str, connected: bool = True) -> None:
        super().__init__(message)
        self.exit_code = EXIT_TIMEOUT
        self.connected = connected


class DeadlineExceeded(CliError):
    """The --timeout ran out."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_TIMEOUT)
