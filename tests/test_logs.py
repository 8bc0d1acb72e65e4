"""The event line format and the filter for malformed requests."""

from __future__ import annotations

import hashlib
import logging
import socket
import sys
import time
from pathlib import Path

from aiohttp.http_exceptions import LineTooLong

from server.logs import (
    MIN_KEY_PREFIX_CHARS,
    MalformedRequestFilter,
    SecretRedactionFilter,
    format_value,
    log_event,
)
from tests.service_process import ServiceProcess


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


def test_redaction_hides_header_values() -> None:
    lines = [
        "Invalid header value char: b'Authorization: Bearer guess-one\\x7f'",
        "Invalid header token: b'X-API-Key\\x7f: guess-two'",
        "Invalid header token: b'authorization Bearer guess-three'",
        "configured key configured-key appears",
    ]
    redactor = SecretRedactionFilter(["configured-key"])
    for line in lines:
        record = logging.LogRecord("aiohttp.server", logging.WARNING, __file__, 1,
                                   "%s", (line,), None)  # fmt: skip
        assert redactor.filter(record) is True
        message = record.getMessage()
        assert "guess" not in message, line
        assert "configured-key" not in message, line
        assert "[REDACTED]" in message, line


def test_redaction_covers_traceback() -> None:
    try:
        raise ValueError("bad header Authorization: Bearer guess-four")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "server.errors", logging.ERROR, __file__, 1, "unhandled error", (), exc_info
    )
    SecretRedactionFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "guess-four" not in formatted
    assert "Traceback" in formatted


def _send_header_line(port: int, header_line: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header_line
            + b"\r\nConnection: close\r\n\r\n"
        )  # fmt: skip
        reply = b""
        while block := sock.recv(65536):
            reply += block
    return reply


def test_rejected_key_headers_not_logged(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("sekret-key-AAA\n")
    log_path = tmp_path / "service.log"
    service = ServiceProcess(tmp_path / "state", log_path, api_keys_file=key_file)
    try:
        _wait_listening(service)
        for line in (
            b"Authorization: Bearer sekret-key-AAA\x7f",
            b"Authorization: Bearer sekret-key-AAA\x00",
            b"X-API-Key: sekret-key-AAA\x0b",
            b"X-API-Key: unlisted-guess\x7f",
        ):
            assert _send_header_line(service.port, line).startswith(b"HTTP/1.")
    finally:
        assert service.stop() == 0
    log = log_path.read_text(errors="replace")
    assert "sekret-key-AAA" not in log
    assert "unlisted-guess" not in log
    assert log.count("Invalid header value char") == 4
    assert log.count("[REDACTED]") == 4


def test_long_key_start_not_logged(tmp_path: Path) -> None:
    # aiohttp logs the first 100 bytes of a header value over its 8190-byte
    # limit, which contains the first 93 characters of a key sent as Bearer.
    key = (hashlib.sha256(b"long key").hexdigest() * 3)[:150]
    log_path = tmp_path / "service.log"
    service = ServiceProcess(tmp_path / "state", log_path, api_keys=key)
    padding = b" " * 8100
    try:
        _wait_listening(service)
        for line in (
            b"Authorization: Bearer " + key.encode() + padding,
            b"X-API-Key: " + key.encode() + padding,
            b"Authorization: " + key.encode() + padding,
        ):
            assert _send_header_line(service.port, line).startswith(b"HTTP/1.")
    finally:
        assert service.stop() == 0
    log = log_path.read_text(errors="replace")
    assert log.count("Got more than 8190 bytes") == 3
    assert key[:MIN_KEY_PREFIX_CHARS] not in log
    assert "Bearer [REDACTED]" in log
    assert log.count("[REDACTED]") == 3


def test_redaction_hides_key_fragments() -> None:
    keys = ["abcdefgh-one", "abcdefgh-twooo", "s\u00e9same-ouvre-toi"]
    redactor = SecretRedactionFilter(keys)
    cases = [
        ("value b'abcdefgh-on...'", "value b'[REDACTED]...'"),
        ("value abcdefgh-tw", "value [REDACTED]"),
        ("value abcdefgh-one and abcdefgh-twooo", "value [REDACTED] and [REDACTED]"),
        # aiohttp shows header bytes with repr, which escapes non-ASCII bytes.
        ("b's\\xc3\\xa9same-ou...'", "b'[REDACTED]...'"),
        # Seven leading characters are too few to tell a key from other text.
        ("value abcdefg", "value abcdefg"),
        ("the Bearer token-guess sent", "the Bearer [REDACTED]"),
    ]
    for line, expected in cases:
        assert redactor.redact(line) == expected, line


def _wait_listening(service: ServiceProcess) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", service.port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "service did not listen in 60 s"
            assert service.process.poll() is None, "service exited while starting"
            time.sleep(0.05)
