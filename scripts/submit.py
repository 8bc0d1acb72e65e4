#!/usr/bin/env python3
"""Submit a book to a booknlp-jobs server, wait for the job and save its result.

This script uses only the standard library, plus orjson when it is importable, so
it runs with any Python 3.9 or later without installing this project.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import email.utils
import http.client
import io
import json
import math
import os
import re
import shlex
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    NamedTuple,
    Optional,
    TextIO,
    Tuple,
    Union,
)

try:
    import orjson
except ImportError:
    orjson = None

DEFAULT_SERVER = "http://127.0.0.1:8000"
SERVER_ENV = "BOOKNLP_JOBS_URL"
API_KEY_ENV = "BOOKNLP_JOBS_API_KEY"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
EXIT_CANCELLED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130

# The socket applies this to each connect, read and sendall call, not to a whole
# request. The book goes to http.client as a file object, which it sends in 8 KiB
# blocks with one sendall each, so a slow upload of a large book does not hit it.
# With --timeout, the time left replaces this value when it is smaller, and a
# SocketWatchdog ends the whole request when that time runs out.
SOCKET_TIMEOUT_S = 60.0
# Wait used when a 503 response has no Retry-After, a Retry-After of 0 or one that
# cannot be parsed, so that the retries do not run in a tight loop.
DEFAULT_RETRY_AFTER_S = 5.0
# Cap on the wait that a Retry-After can request. The server never sends more
# than 600 s (MAX_RETRY_AFTER_S in server/scheduler.py), and a cap keeps a huge
# value from overflowing time.sleep.
MAX_RETRY_AFTER_S = 600.0
# Error codes of the server's 503 responses. The server has not taken the
# request, so the script submits again, even when Retry-After is missing.
RETRYABLE_503_CODES = (
    "queue_full",
    "too_many_uploads",
    "shutting_down",
    "engine_unavailable",
)
# How long polling keeps retrying after the connection fails. It covers a short
# outage such as a restart under systemd (RestartSec=5 plus the start-up time).
RECONNECT_GRACE_S = 60.0
DOWNLOAD_BLOCK_BYTES = 1 << 20
TOP_CHARACTERS = 10
PROGRESS_BAR_WIDTH = 30
TERMINAL_STATUSES = ("completed", "failed", "cancelled")
JOB_STATUSES = ("pending", "running") + TERMINAL_STATUSES
# Byte-order marks and the charset that the book is sent with when the file
# starts with one. The UTF-32 LE mark starts with the UTF-16 LE mark, so the
# UTF-32 marks come first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

JsonObject = Dict[str, Any]

EPILOG = f"""\
The book is sent byte for byte (CRLF line ends included) as UTF-8, or as UTF-16
or UTF-32 when the file starts with the byte-order mark of that encoding.
Without --no-wait the script polls the job, shows its progress on stderr, writes
the result JSON to OUT and prints a summary on stdout. With --no-wait it prints
only the job id on stdout, so that JOB=$(submit.py --no-wait book.txt) works.

When the server is busy (HTTP 503, for example a full queue), the script waits
for the seconds in Retry-After, or {DEFAULT_RETRY_AFTER_S:g} s when it is missing
or invalid, and submits again, until --timeout runs out.

environment:
  {SERVER_ENV}      server URL, used when --server is not given
  {API_KEY_ENV}  API key, used when --api-key is not given

exit status:
  {EXIT_OK}    the job completed and the result was saved (or --no-wait submitted it)
  {EXIT_FAILED}    the job failed on the server
  {EXIT_ERROR}    usage error, unreadable input, HTTP error, invalid response from the
       server, unreachable server, or the result could not be written
  {EXIT_CANCELLED}    the job was cancelled
  {EXIT_TIMEOUT}    --timeout ran out; a job the server accepted keeps running there
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C, and the job keeps running on the server
"""


class CliError(Exception):
    """An expected failure that main reports in one line, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ApiError(CliError):
    """An HTTP error response, with the server's error code and Retry-After."""

    def __init__(
        self, message: str, status: int, code: str, retry_after: Optional[float]
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class ConnectionFailed(CliError):
    """A request that got no HTTP response: refused, reset or timed out."""


class DeadlineExceeded(CliError):
    """The --timeout ran out."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_TIMEOUT)


# ---------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="submit.py",
        description="Submit a book to a booknlp-jobs server as an asynchronous "
        "job,\nwait for it to finish and save the result JSON.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="text of the book: UTF-8, or UTF-16 or UTF-32 with a byte-order mark",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="OUT",
        help="file to write the result JSON to, replacing an existing file "
        "(default: FILE's stem + .booknlp.json in the current folder)",
    )
    add_job_options(parser.add_argument_group("job options"))
    add_server_options(parser.add_argument_group("server and waiting"))
    return parser


def add_job_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--book-id",
        metavar="ID",
        help="book id stored in the result (default: FILE's stem)",
    )
    group.add_argument(
        "--pipeline",
        nargs="+",
        metavar="COMPONENT",
        help="result components to compute, separated by spaces or commas, e.g. "
        "tokens entities quotes characters events (default: all that the model "
        "offers). "
        "This option takes every following word, so put FILE before it.",
    )
    group.add_argument(
        "--model", metavar="NAME", help="engine model, e.g. litbank or fast with the "
        "spacy engine, small or big with booknlp (default: the server's)"
    )


def add_server_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get(SERVER_ENV) or DEFAULT_SERVER,
        help=f"base URL of the server (default: ${SERVER_ENV} or {DEFAULT_SERVER})",
    )
    # The default is filled in by parse_args, which needs to know where the key
    # came from to name it in errors.
    group.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"API key sent as a Bearer token (default: ${API_KEY_ENV}). "
        "Prefer the variable, because other users can read command lines.",
    )
    group.add_argument(
        "--no-wait",
        action="store_true",
        help="print the job id and exit as soon as the server accepts the job",
    )
    group.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between status requests (default: 1)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="maximum seconds for the whole run: the upload, waits for a busy "
        "server, the job and the download of the result (default: no limit). "
        "Each request ends when it runs out. The job keeps running on the server "
        "afterwards.",
    )


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (math.isfinite(args.poll_interval) and args.poll_interval > 0):
        parser.error(
            f"--poll-interval must be a finite number greater than 0, "
            f"got {args.poll_interval}"
        )
    if args.timeout is not None and not (
        math.isfinite(args.timeout) and args.timeout > 0
    ):
        parser.error(
            f"--timeout must be a finite number greater than 0, got {args.timeout}"
        )
    problem = find_server_url_problem(args.server)
    if problem:
        parser.error(
            f"--server {args.server!r} {problem}; for example {DEFAULT_SERVER}"
        )
    key_source = "--api-key"
    if args.api_key is None:
        args.api_key = os.environ.get(API_KEY_ENV)
        key_source = f"${API_KEY_ENV}"
    problem = find_header_problem(args.api_key or "")
    if problem:
        # The key is a secret, so the message describes the character but never
        # shows the key or the character.
        parser.error(
            f"the API key in {key_source} contains {problem}, which an HTTP header "
            "cannot carry; check the key (it is not shown here)"
        )
    if args.pipeline is not None:
        args.pipeline = split_components(args.pipeline)
        if not args.pipeline:
            parser.error("--pipeline needs at least one component name")
    return args


def find_server_url_problem(url: str) -> Optional[str]:
    """Describe why ``url`` cannot be the server's base URL, or return None."""
    try:
        parts = urllib.parse.urlsplit(url)
        # Reading the port raises ValueError for one that is out of range.
        parts.port
    except ValueError as err:
        return f"is not a valid URL ({err})"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not parts.hostname:
        return "has no host name"
    return None


def find_header_problem(value: str) -> Optional[str]:
    """Describe the first character that an HTTP header value cannot carry.

    The description gives the kind of character and its position but not the
    character itself. Returns None when every character is printable ASCII.
    """
    for index, char in enumerate(value):
        code = ord(char)
        if char in "\r\n":
            kind = "a line break (CR or LF)"
        elif code < 0x20 or code == 0x7F:
            kind = "a control character"
        elif code > 0x7E:
            kind = "a non-ASCII character"
        else:
            continue
        return f"{kind} at position {index + 1}"
    return None


def split_components(values: List[str]) -> List[str]:
    """Flatten ``["tokens,quotes", "entities"]`` into one list of names."""
    names = []
    for value in values:
        names.extend(name.strip() for name in value.split(",") if name.strip())
    return names


# ---------------------------------------------------------------------------
# HTTP


class _RejectRedirects(urllib.request.HTTPRedirectHandler):
    """Turn redirects into errors, so the API key never goes to another URL."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore
        return None


class SocketWatchdog:
    """Timer that shuts down the sockets of one request when the deadline passes.

    The socket timeout bounds each connect, send and receive call but not their
    sum, so a server that sends a byte now and then could hold a request past
    --timeout. Shutting a socket down from the timer thread makes a call blocked
    on it in another thread return at once.
    """

    def __init__(self, seconds: Optional[float]) -> None:
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._fired = False
        self._timer: Optional[threading.Timer] = None
        if seconds is not None:
            # threading raises OverflowError for a wait above TIMEOUT_MAX.
            delay = min(seconds, threading.TIMEOUT_MAX)
            self._timer = threading.Timer(delay, self._shut_down_all)
            self._timer.daemon = True
            self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._fired:
                shut_down_socket(sock)
            else:
                self._sockets.append(sock)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _shut_down_all(self) -> None:
        with self._lock:
            self._fired = True
            for sock in self._sockets:
                shut_down_socket(sock)


def shut_down_socket(sock: socket.socket) -> None:
    try:
        # socket.socket.shutdown acts on the file descriptor. SSLSocket's own
        # shutdown would also drop the TLS state that a reading thread uses.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        # The socket is closed already.
        pass


class _WatchedOpenMixin:
    """Handler mixin that hands each connected socket to a SocketWatchdog."""

    def __init__(self, watchdog: SocketWatchdog) -> None:
        super().__init__()  # type: ignore[call-arg]
        self._watchdog = watchdog

    def do_open(self, http_class, req, **http_conn_args):  # type: ignore
        watchdog = self._watchdog

        class WatchedConnection(http_class):  # type: ignore
            def connect(self) -> None:
                # NOTE: for https this connect includes the TLS handshake, which
                # only the socket timeout bounds, because the socket is watched
                # after it.
                super().connect()
                watchdog.watch(self.sock)

        return super().do_open(  # type: ignore[misc]
            WatchedConnection, req, **http_conn_args
        )


class _WatchedHTTPHandler(_WatchedOpenMixin, urllib.request.HTTPHandler):
    pass


# urllib has no HTTPSHandler when Python is built without ssl.
HAS_HTTPS = hasattr(urllib.request, "HTTPSHandler")
if HAS_HTTPS:

    class _WatchedHTTPSHandler(_WatchedOpenMixin, urllib.request.HTTPSHandler):
        pass


def watched_handlers(watchdog: SocketWatchdog) -> List[urllib.request.BaseHandler]:
    """Build HTTP and HTTPS handlers whose sockets ``watchdog`` shuts down."""
    handlers: List[urllib.request.BaseHandler] = [_WatchedHTTPHandler(watchdog)]
    if HAS_HTTPS:
        handlers.append(_WatchedHTTPSHandler(watchdog))
    return handlers


class Client:
    """HTTP client for the booknlp-jobs API at one base URL.

    Every request, including the reading of its response body, ends when
    ``deadline`` passes.
    """

    def __init__(
        self, base_url: str, api_key: Optional[str], deadline: Deadline
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._deadline = deadline

    def url(self, path: str, query: Optional[Dict[str, str]] = None) -> str:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    @contextlib.contextmanager
    def open(
        self,
        method: str,
        url: str,
        body: Optional[bytes] = None,
        content_type: Optional[str] = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """Send one request and yield the open response of a 2xx status.

        Raises ApiError for an HTTP error status, ConnectionFailed when no
        complete response arrives, and DeadlineExceeded when the deadline
        passes first, also while the caller reads the body in the with block.
        """
        remaining = self._deadline.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(
                f"--timeout {self._deadline.timeout_s:g} s ran out before "
                f"{method} {url}"
            )
        timeout = SOCKET_TIMEOUT_S if remaining is None else min(
            SOCKET_TIMEOUT_S, remaining
        )
        request = self._build_request(method, url, body, content_type)
        watchdog = SocketWatchdog(remaining)
        opener = urllib.request.build_opener(
            _RejectRedirects, *watched_handlers(watchdog)
        )
        try:
            with self._send(opener, request, timeout) as response:
                yield response
        except ConnectionFailed:
            # A socket timeout or a shutdown by the watchdog at the deadline
            # surfaces as a connection failure.
            if self._deadline.expired():
                raise self._deadline_error(method, url) from None
            raise
        finally:
            watchdog.cancel()

    def _build_request(
        self,
        method: str,
        url: str,
        body: Optional[bytes],
        content_type: Optional[str],
    ) -> urllib.request.Request:
        data = None if body is None else io.BytesIO(body)
        request = urllib.request.Request(url, data=data, method=method)
        if body is not None:
            # Without it urllib would send a file object with chunked encoding.
            request.add_header("Content-Length", str(len(body)))
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "booknlp-jobs-submit")
        if content_type:
            request.add_header("Content-Type", content_type)
        if self._api_key:
            request.add_header("Authorization", f"Bearer {self._api_key}")
        return request

    def _send(
        self,
        opener: urllib.request.OpenerDirector,
        request: urllib.request.Request,
        timeout: float,
    ) -> http.client.HTTPResponse:
        url = request.full_url
        try:
            return opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            raise api_error_from(err, request.get_method(), url) from None
        except urllib.error.URLError as err:
            raise connection_error(url, err.reason) from None
        except (OSError, http.client.HTTPException) as err:
            # urllib wraps errors raised while sending in URLError, but errors
            # while reading the status line (a reset, a timeout) come unwrapped.
            raise connection_error(url, err) from None

    def _deadline_error(self, method: str, url: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"{method} {url} got no complete response within --timeout "
            f"{self._deadline.timeout_s:g} s"
        )

    def get_json(self, path: str) -> JsonObject:
        url = self.url(path)
        with self.open("GET", url) as response:
            return decode_json_object(read_body(response, url), url)


def read_body(response: http.client.HTTPResponse, url: str) -> bytes:
    try:
        return response.read()
    except (OSError, http.client.HTTPException) as err:
        raise connection_error(url, err) from None


def decode_json_object(body: bytes, url: str) -> JsonObject:
    try:
        value = orjson.loads(body) if orjson else json.loads(body)
    except ValueError:
        raise CliError(
            f"invalid JSON in the response from {url}: {body[:200]!r}; "
            "check that --server points to a booknlp-jobs server"
        ) from None
    if not isinstance(value, dict):
        raise CliError(f"expected a JSON object from {url}, got {type(value).__name__}")
    return value


def connection_error(url: str, reason: object) -> ConnectionFailed:
    if isinstance(reason, ConnectionRefusedError):
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return ConnectionFailed(
            f"connection refused by {parts.scheme}://{parts.netloc}. Is the server "
            f"running? Start it with: python -m server --host {host} --port {port}"
        )
    if isinstance(reason, socket.timeout):
        return ConnectionFailed(
            f"request to {url} timed out after {SOCKET_TIMEOUT_S:g} s with no response"
        )
    return ConnectionFailed(f"request to {url} failed: {reason}")


def api_error_from(err: urllib.error.HTTPError, method: str, url: str) -> ApiError:
    """Build an ApiError from the server's ``{"error": {"code", "message"}}`` body."""
    code, message = "", ""
    try:
        body = err.read()
    except (OSError, http.client.HTTPException):
        body = b""
    try:
        detail = json.loads(body)["error"]
        code, message = str(detail.get("code", "")), str(detail.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        message = body[:200].decode("utf-8", "replace").strip()
    if 300 <= err.code < 400:
        location = err.headers.get("Location", "")
        message = f"redirect to {location}; pass that URL's base with --server"
    text = f"{method} {url} returned HTTP {err.code}"
    if code:
        text += f" ({code})"
    if message:
        text += f": {message}"
    if err.code in (401, 403):
        text += f"; check --api-key or ${API_KEY_ENV}"
    retry_after = parse_retry_after(err.headers.get("Retry-After"))
    return ApiError(text, err.code, code, retry_after)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Return the wait in seconds from a Retry-After of seconds or an HTTP date.

    Returns None when the header is missing or invalid, for example negative or
    ``nan``. A date in the past gives 0.
    """
    if not value:
        return None
    value = value.strip()
    # str.isdigit would also accept digits such as "²" that float rejects.
    if re.fullmatch(r"[0-9]+", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------
# Deadline and sleeping


class Deadline:
    """The optional --timeout, measured on the monotonic clock from the start."""

    def __init__(self, timeout_s: Optional[float]) -> None:
        self.timeout_s = timeout_s
        self._end = None if timeout_s is None else time.monotonic() + timeout_s

    def remaining(self) -> Optional[float]:
        if self._end is None:
            return None
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds``, cut short at the deadline."""
        remaining = self.remaining()
        if remaining is not None:
            seconds = min(seconds, remaining)
        # time.sleep raises OverflowError above about 292 years.
        time.sleep(min(seconds, threading.TIMEOUT_MAX))


# ---------------------------------------------------------------------------
# Submission


class Book(NamedTuple):
    """The bytes of a book file and the charset that the server decodes them with."""

    data: bytes
    charset: str


def read_book(path: Path) -> Book:
    """Read and check the book, taking its encoding from a byte-order mark.

    The bytes are sent unchanged, so a UTF-16 or UTF-32 file goes with its mark,
    which the server's decoder consumes. The server also drops a UTF-8 mark.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CliError(f"cannot read {path}: {err.strerror or err}") from None
    if not data:
        raise CliError(f"{path} is empty; give a file that contains the book's text")
    charset = detect_charset(data)
    name = charset.upper()
    try:
        data.decode(charset)
    except UnicodeDecodeError as err:
        if charset != "utf-8":
            raise CliError(
                f"{path} starts with a {name} byte-order mark but is not valid "
                f"{name} ({err.reason} at byte offset {err.start}); check that the "
                "file is complete, or convert it to UTF-8"
            ) from None
        converted = shlex.quote(f"{path.stem}.utf8.txt")
        raise CliError(
            f"{path} is not valid UTF-8 (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); convert it to UTF-8 first with iconv, naming its "
            "encoding, e.g. for Windows-1252 (Western European) text: "
            f"iconv -f cp1252 -t utf-8 {shlex.quote(str(path))} > {converted}"
        ) from None
    if charset == "utf-8" and b"\x00" in data:
        # Mostly ASCII text in UTF-16 or UTF-32 without a byte-order mark is
        # valid UTF-8 with a NUL byte after each character.
        converted = shlex.quote(f"{path.stem}.utf8.txt")
        raise CliError(
            f"{path} contains NUL bytes (the first at offset {data.index(0)}), so "
            "it is probably UTF-16 or UTF-32 without a byte-order mark; convert it "
            "to UTF-8 first, e.g. for little-endian UTF-16: "
            f"iconv -f utf-16le -t utf-8 {shlex.quote(str(path))} > {converted}"
        )
    return Book(data, charset)


def detect_charset(data: bytes) -> str:
    """Return the charset named by the byte-order mark of ``data``, else utf-8."""
    for mark, charset in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return charset
    return "utf-8"


def build_query(args: argparse.Namespace) -> Dict[str, str]:
    query = {"book_id": args.book_id or args.file.stem}
    if args.pipeline:
        query["pipeline"] = ",".join(args.pipeline)
    if args.model:
        query["model"] = args.model
    return query


def submit_job(
    client: Client, book: Book, query: Dict[str, str], deadline: Deadline
) -> JsonObject:
    """POST the book and return the job description of the 202 response.

    A 503 (a busy server) is retried after the requested wait until the deadline.
    Other errors are not retried, because a POST that reached the server may
    already have created a job.
    """
    url = client.url("/v1/jobs", query)
    content_type = f"text/plain; charset={book.charset}"
    while True:
        try:
            with client.open("POST", url, book.data, content_type) as response:
                job = decode_json_object(read_body(response, url), url)
                location = response.headers.get("Location")
            break
        except ApiError as err:
            if not is_retryable(err):
                raise
            wait_for_retry(err, deadline)
        except DeadlineExceeded as err:
            raise DeadlineExceeded(
                f"{err}. The server may have created the job anyway, so list the "
                f"jobs with GET {client.url('/v1/jobs')} before submitting again"
            ) from None
    job_id = job.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise CliError(f"the response from {url} has no job_id: {job}")
    if location:
        job["status_url"] = urllib.parse.urljoin(url, location)
    else:
        job["status_url"] = client.url(job_path(job_id))
    return job


def is_retryable(err: ApiError) -> bool:
    """Return whether a failed submission can be sent again after a wait."""
    if err.status != 503:
        return False
    return err.code in RETRYABLE_503_CODES or err.retry_after is not None


def wait_for_retry(err: ApiError, deadline: Deadline) -> None:
    """Sleep before the next submission, or raise DeadlineExceeded at the deadline."""
    if deadline.expired():
        raise give_up_error(err, deadline)
    wait = min(err.retry_after or DEFAULT_RETRY_AFTER_S, MAX_RETRY_AFTER_S)
    remaining = deadline.remaining()
    if remaining is not None and remaining < wait:
        wait = remaining
    reason = "the server queue is full" if err.code == "queue_full" else str(err)
    print(f"{reason}; retrying in {wait:.1f} s", file=sys.stderr)
    deadline.sleep(wait)
    if deadline.expired():
        raise give_up_error(err, deadline)


def give_up_error(err: ApiError, deadline: Deadline) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"gave up after --timeout {deadline.timeout_s:g} s; the last response "
        f"was: {err}"
    )


def job_path(job_id: str) -> str:
    return "/v1/jobs/" + urllib.parse.quote(job_id, safe="")


# ---------------------------------------------------------------------------
# Progress display


def format_tokens(job: JsonObject) -> str:
    done, total = job.get("tokens_done"), job.get("tokens_total")
    if done is None and not total:
        return ""
    if not total:
        return f"tokens {done}"
    return f"tokens {done or 0}/{total}"


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class TerminalProgress:
    """A progress bar on one terminal line, redrawn in place after each poll."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._drawn = False

    def update(self, job: JsonObject) -> None:
        elapsed = format_elapsed(time.monotonic() - self._started)
        if job.get("status") == "pending":
            position = job.get("queue_position")
            where = f", queue position {position}" if position is not None else ""
            line = f"pending{where}  {elapsed}"
        else:
            percent = float(job.get("progress") or 0.0)
            clamped = min(max(percent, 0.0), 100.0)
            filled = round(PROGRESS_BAR_WIDTH * clamped / 100.0)
            bar = "#" * filled + "-" * (PROGRESS_BAR_WIDTH - filled)
            parts = [
                f"[{bar}] {percent:5.1f}%",
                job.get("stage") or "",
                format_tokens(job),
            ]
            line = "  ".join(part for part in parts + [elapsed] if part)
        width = shutil.get_terminal_size().columns
        # Writing into the last column makes some terminals wrap, so stop one short.
        self._stream.write("\r" + line[: width - 1] + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def note(self, text: str) -> None:
        """Print a message on its own line; the next update redraws the bar."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._drawn = False
        print(text, file=self._stream)

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


class LineProgress:
    """Plain progress lines for logs and pipes.

    A line is printed only when the status, the stage, the queue position or the
    whole percentage changes, so a long job writes at most a few hundred lines.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last: Optional[tuple] = None

    def update(self, job: JsonObject) -> None:
        status = job.get("status")
        if status == "pending":
            position = job.get("queue_position")
            key: tuple = (status, position)
            line = "pending" + (
                f" queue position {position}" if position is not None else ""
            )
        else:
            percent = int(float(job.get("progress") or 0.0))
            stage = job.get("stage") or ""
            key = (status, percent, stage)
            parts = [
                f"progress {percent}%",
                f"stage {stage}" if stage else "",
                format_tokens(job),
            ]
            line = " ".join(part for part in parts if part)
        if key != self._last:
            self._last = key
            print(line, file=self._stream, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def close(self) -> None:
        pass


ProgressDisplay = Union[TerminalProgress, LineProgress]


# ---------------------------------------------------------------------------
# Polling


def wait_for_job(
    client: Client,
    job_id: str,
    interval: float,
    deadline: Deadline,
    display: ProgressDisplay,
) -> JsonObject:
    """Poll the job until it reaches a terminal status and return its last state.

    Connection failures are retried for RECONNECT_GRACE_S, so that a service
    restart does not end the wait. HTTP errors end it at once.
    """
    path = job_path(job_id)
    failing_since: Optional[float] = None
    while True:
        try:
            job = client.get_json(path)
        except DeadlineExceeded:
            break
        except ConnectionFailed as err:
            now = time.monotonic()
            if failing_since is None:
                failing_since = now
                display.note(f"{err}; retrying for up to {RECONNECT_GRACE_S:g} s")
            elif now - failing_since > RECONNECT_GRACE_S:
                raise
        else:
            if failing_since is not None:
                display.note("connection to the server restored")
                failing_since = None
            check_job_status(job, client.url(path))
            display.update(job)
            if job["status"] in TERMINAL_STATUSES:
                return job
        if deadline.expired():
            break
        deadline.sleep(interval)
    raise DeadlineExceeded(
        f"job {job_id} did not finish within --timeout {deadline.timeout_s:g} s"
    )


def check_job_status(job: JsonObject, url: str) -> None:
    """Raise CliError when a field that the script reads has an invalid value."""
    problem = find_job_status_problem(job)
    if problem:
        raise CliError(
            f"invalid response from {url}: {problem}; check that --server points "
            "to a booknlp-jobs server"
        )


def find_job_status_problem(job: JsonObject) -> Optional[str]:
    """Describe the first invalid field of a job status response, or return None."""
    status = job.get("status")
    if status not in JOB_STATUSES:
        return f"status {short_repr(status)} is not one of {', '.join(JOB_STATUSES)}"
    progress = job.get("progress")
    if progress is not None and not is_finite_number(progress):
        return f"progress {short_repr(progress)} is not a number"
    for name in ("queue_position", "tokens_done", "tokens_total"):
        value = job.get(name)
        if value is not None and not is_integer(value):
            return f"{name} {short_repr(value)} is not an integer"
    stage = job.get("stage")
    if stage is not None and not isinstance(stage, str):
        return f"stage {short_repr(stage)} is not a string"
    error = job.get("error")
    if error is None:
        return None
    if not isinstance(error, dict):
        return f"error {short_repr(error)} is not an object"
    for name in ("code", "message"):
        value = error.get(name)
        if value is not None and not isinstance(value, str):
            return f"error.{name} {short_repr(value)} is not a string"
    return None


def is_integer(value: Any) -> bool:
    # bool is a subclass of int, but JSON true is not a number.
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """Return whether ``value`` is a JSON number that converts to a finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        # An int of more than about 308 digits.
        return False


def short_repr(value: Any, limit: int = 80) -> str:
    """Return ``repr(value)``, cut to ``limit`` characters for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------
# Result


def check_output_path(output: Path, book: Path) -> None:
    """Raise CliError before submitting when the result could not be saved.

    The download goes to ``OUT.part`` and then replaces ``output``, so neither
    may be the book, and the folder must accept new files.
    """
    try:
        check_output_target(output, book)
        check_output_folder(output)
    except OSError as err:
        raise CliError(
            f"cannot check --output {output}: {err.strerror or err}; "
            "choose another --output"
        ) from None


def check_output_target(output: Path, book: Path) -> None:
    partial = partial_path(output)
    if is_same_file(output, book):
        raise CliError(
            f"--output {output} is the book {book} itself, which the result would "
            "replace; choose another --output"
        )
    if is_same_file(partial, book):
        raise CliError(
            f"--output {output} would first write the download to {partial}, which "
            f"is the book {book}; choose another --output"
        )
    if output.is_dir():
        raise CliError(f"--output {output} is a folder; give a file path")
    if output.exists() and not output.is_file():
        raise CliError(
            f"--output {output} is not a regular file (for example a device), and "
            "the result would replace it; give a file path"
        )


def check_output_folder(output: Path) -> None:
    folder = output.parent
    if not folder.is_dir():
        raise CliError(
            f"the folder of --output {output} does not exist; create it first"
        )
    # os.access reports a folder such as /proc as writable for root, so the check
    # creates and removes a file there.
    try:
        handle, probe = tempfile.mkstemp(
            prefix=f".{output.name}.", suffix=".probe", dir=folder
        )
    except OSError as err:
        raise CliError(
            f"cannot create files in {folder}, the folder of --output {output}: "
            f"{err.strerror or err}; choose another --output"
        ) from None
    os.close(handle)
    os.unlink(probe)


def is_same_file(first: Path, second: Path) -> bool:
    """Return whether two paths name one file, through links, '..' or hard links."""
    try:
        if first.resolve() == second.resolve():
            return True
    except RuntimeError:
        # Path.resolve raises RuntimeError for a symlink loop before Python 3.13.
        return False
    try:
        return os.path.samefile(first, second)
    except OSError:
        # One of them does not exist.
        return False


def partial_path(output: Path) -> Path:
    return output.with_name(output.name + ".part")


def download_result(client: Client, job_id: str, output: Path) -> int:
    """Stream the result JSON to ``output`` in blocks and return its size in bytes.

    Raises CliError, or DeadlineExceeded when the deadline passes, with a
    message that names the job and gives the command to fetch the result again.
    """
    url = client.url(job_path(job_id) + "/result")
    hint = fetch_hint(job_id, url, output)
    try:
        return save_result(client, url, output)
    except DeadlineExceeded as err:
        raise DeadlineExceeded(f"{err}. {hint}") from None
    except ConnectionFailed as err:
        raise CliError(f"{err}. {hint}") from None
    except OSError as err:
        raise CliError(
            f"cannot write the result of job {job_id} to {err.filename or output}: "
            f"{err.strerror or err}. {hint}"
        ) from None


def fetch_hint(job_id: str, url: str, output: Path) -> str:
    return (
        f"The server keeps the result of job {job_id} for BOOKNLP_JOBS_RESULT_TTL_S "
        "seconds (default 3600), so fetch it with: "
        f"curl -fo {shlex.quote(str(output))} {shlex.quote(url)} "
        "(add -H 'Authorization: Bearer ...' if the server needs an API key)"
    )


def save_result(client: Client, url: str, output: Path) -> int:
    """Download the result to ``output`` and return its size in bytes.

    The body goes to ``OUT.part`` first and replaces ``output`` only when it is
    complete, so an interrupted download never leaves a truncated result behind.
    """
    partial = partial_path(output)
    try:
        with client.open("GET", url) as response:
            expected = response.headers.get("Content-Length")
            size = copy_body(response, url, partial)
        # http.client does not raise when a body with Content-Length ends early
        # and is read in blocks, so the length is checked here.
        if (
            expected is not None
            and re.fullmatch(r"[0-9]+", expected)
            and size != int(expected)
        ):
            raise ConnectionFailed(
                f"the download from {url} ended after {size} of {expected} bytes"
            )
        os.replace(partial, output)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return size


def copy_body(response: http.client.HTTPResponse, url: str, path: Path) -> int:
    """Write the response body to ``path`` and return its size in bytes.

    Raises ConnectionFailed when reading fails and OSError when writing fails.
    """
    size = 0
    with open(path, "wb") as sink:
        while True:
            try:
                block = response.read(DOWNLOAD_BLOCK_BYTES)
            except (OSError, http.client.HTTPException) as err:
                raise connection_error(url, err) from None
            if not block:
                return size
            sink.write(block)
            size += len(block)


def load_result(path: Path) -> JsonObject:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CliError(
            f"cannot read the saved result {path}: {err.strerror or err}"
        ) from None
    try:
        result = orjson.loads(data) if orjson else json.loads(data)
    except ValueError as err:
        raise CliError(f"the result in {path} is not valid JSON: {err}") from None
    if not isinstance(result, dict):
        raise CliError(f"the result in {path} is not a JSON object")
    return result


# The summary reads the result defensively. The file is saved already, so a field
# of an unexpected type shows as "?" or is skipped instead of ending the run.


def count_tokens(result: JsonObject) -> Any:
    text = result.get("text")
    tokens = text.get("tokens") if isinstance(text, dict) else None
    return len(tokens) if isinstance(tokens, list) else tokens


def count_items(result: JsonObject, name: str) -> str:
    """Return the length of the list ``result[name]``, or "?" for another type."""
    value = result.get(name)
    if value is None:
        return "0"
    return str(len(value)) if isinstance(value, list) else "?"


def rank_characters(result: JsonObject) -> List[Tuple[int, str, str]]:
    """Return (mentions, gender, name) of each character, most mentioned first."""
    characters = result.get("characters")
    rows = []
    for character in characters if isinstance(characters, list) else []:
        if not isinstance(character, dict):
            continue
        mentions = character.get("mention_count")
        if not is_integer(mentions):
            mentions = 0
        gender = character.get("gender")
        argmax = gender.get("argmax") if isinstance(gender, dict) else None
        name = character.get("name") or f"#{character.get('character_id')}"
        rows.append((mentions, str(argmax or "-"), str(name)))
    rows.sort(key=lambda row: row[0], reverse=True)
    return rows


def format_summary(result: JsonObject, output: Path, size: int) -> str:
    lines = [
        f"result written to {output} ({size:,} bytes)",
        f"tokens      {count_tokens(result)}",
        f"quotes      {count_items(result, 'quotes')}",
        f"entities    {count_items(result, 'entities')}",
        f"events      {count_items(result, 'events')}",
        f"characters  {count_items(result, 'characters')}",
    ]
    characters = rank_characters(result)
    if characters:
        lines.append(
            f"top {min(TOP_CHARACTERS, len(characters))} characters by mentions:"
        )
        lines.append(f"  {'mentions':>8}  {'gender':<12}  name")
    for mentions, gender, name in characters[:TOP_CHARACTERS]:
        lines.append(f"  {mentions:>8}  {gender:<12}  {name}")
    return "\n".join(lines)


def report_outcome(client: Client, job_id: str, job: JsonObject, output: Path) -> int:
    """Save and summarize a completed job, or report a failed or cancelled one."""
    status = job["status"]
    if status == "completed":
        size = download_result(client, job_id, output)
        print(format_summary(load_result(output), output, size))
        return EXIT_OK
    error = job.get("error") or {}
    detail = error.get("message") or ""
    if error.get("code") and error["code"] != status:
        detail = f"{error['code']}: {detail}"
    if status == "cancelled":
        suffix = f": {detail}" if detail else ""
        print(f"job {job_id} was cancelled{suffix}", file=sys.stderr)
        return EXIT_CANCELLED
    print(
        f"job {job_id} failed: {detail or 'the server sent no error'}", file=sys.stderr
    )
    return EXIT_FAILED


# ---------------------------------------------------------------------------
# Main


def run(args: argparse.Namespace) -> int:
    book = read_book(args.file)
    output = args.output or Path(f"{args.file.stem}.booknlp.json")
    if not args.no_wait:
        check_output_path(output, args.file)

    deadline = Deadline(args.timeout)
    client = Client(args.server, args.api_key, deadline)
    job = submit_job(client, book, build_query(args), deadline)
    job_id, status_url = job["job_id"], job["status_url"]
    if args.no_wait:
        print(job_id)
        print(f"status: {status_url}", file=sys.stderr)
        return EXIT_OK

    print(f"submitted job {job_id}, status at {status_url}", file=sys.stderr)
    try:
        final = wait_with_progress(client, job_id, args.poll_interval, deadline)
    except KeyboardInterrupt:
        print(
            f"interrupted; job {job_id} keeps running, see {status_url}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except DeadlineExceeded as err:
        raise DeadlineExceeded(f"{err}; it keeps running, see {status_url}") from None
    return report_outcome(client, job_id, final, output)


def wait_with_progress(
    client: Client, job_id: str, interval: float, deadline: Deadline
) -> JsonObject:
    """Run wait_for_job with a progress bar on a terminal, else with plain lines."""
    stream = sys.stderr
    display: ProgressDisplay
    if stream.isatty():
        display = TerminalProgress(stream)
    else:
        display = LineProgress(stream)
    try:
        return wait_for_job(client, job_id, interval, deadline, display)
    finally:
        # Ends the progress bar's line, so later messages start on their own.
        display.close()


def main(argv: Optional[List[str]] = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exit_:
        # argparse exits for --help and usage errors; return the code for tests.
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    try:
        return run(args)
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
