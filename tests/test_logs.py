"""The event line format and the filter for malformed requests."""

from __future__ import annotations

import logging
import sys

from aiohttp.http_exceptions import LineTooLong

from server.logs import MalformedRequestFilter, format_value, log_event


def test_event_line_quotes_values_with_spaces(caplog) -> None:
    caplog.set_level(logging.INFO)
    log_event(logging.getLogger("t"), "job.failed", job_id="ab12", cause='said "no" twice')
    assert caplog.records[0].getMessage() == (
        'event=job.failed job_id=ab12 cause="said \\"no\\" twice"'
    )


def test_format_value_trims_floats() -> None:
    assert format_value(2.5) == "2.5"
    assert format_value(3.0) == "3"
    assert format_value("") == '""'


def test_malformed_request_logged_without_traceback() -> None:
    try:
        raise LineTooLong("request line", "8190", "9000")
    except LineTooLong:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1,
        "Error handling request from %s", ("127.0.0.1",), exc_info,
    )  # fmt: skip
    assert MalformedRequestFilter().filter(record) is True
    assert record.exc_info is None
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert message.startswith("Error handling request from 127.0.0.1: ")
    assert "8190" in message


def test_other_errors_keep_traceback() -> None:
    try:
        raise RuntimeError("bug")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1, "Error handling request", (),
        exc_info,
    )  # fmt: skip
    MalformedRequestFilter().filter(record)
    assert record.exc_info is exc_info
    assert record.levelno == logging.ERROR
