"""HTTP client of submit.py, with the time limits of each request and --timeout."""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import io
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

from submit_errors import (
    ApiError,
    CliError,
    ConnectionFailed,
    DeadlineExceeded,
    RequestTimedOut,
)

try:
    import orjson
except ImportError:
    orjson = None

# The environment variable that submit.py reads the API key from. Errors for
# HTTP 401 and 403 name it.
API_KEY_ENV = "BOOKNLP_JOBS_API_KEY"

# Time limits of each request, with or without --timeout. With --timeout, the time
# left replaces a limit when it is smaller, and a SocketWatchdog ends the whole
# request when that time runs out.
#
# Limit on the TCP connect, and for https the TLS handshake.
CONNECT_TIMEOUT_S = 15.0
# Limit on each send and receive call after the connect, so on the time without
# data in either direction, not on a whole request. The book goes to http.client
# as a file object, which it sends in 8 KiB blocks with one sendall each, so a slow
# upload of a large book or a long download of its result does not hit it.
IDLE_TIMEOUT_S = 60.0
# Limit on a whole GET of a small JSON body, such as a job status, which the
# server sends at once. It also ends a server that trickles a byte now and then.
JSON_GET_TIMEOUT_S = 30.0

JsonObject = Dict[str, Any]


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
        # Set when a socket is handed over, which happens once it has connected.
        self.connected = False
        self._timer: Optional[threading.Timer] = None
        if seconds is not None:
            # threading raises OverflowError for a wait above TIMEOUT_MAX.
            delay = min(seconds, threading.TIMEOUT_MAX)
            self._timer = threading.Timer(delay, self._shut_down_all)
            self._timer.daemon = True
            self._timer.start()

    @property
    def fired(self) -> bool:
        """Whether the time ran out and the sockets were shut down."""
        with self._lock:
            return self._fired

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self.connected = True
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
    """Handler mixin that hands each connected socket to a SocketWatchdog.

    The request's timeout bounds the connect. Once connected, the socket gets
    ``idle_timeout_s`` for each later send and receive call.
    """

    def __init__(self, watchdog: SocketWatchdog, idle_timeout_s: float) -> None:
        super().__init__()  # type: ignore[call-arg]
        self._watchdog = watchdog
        self._idle_timeout_s = idle_timeout_s

    def do_open(self, http_class, req, **http_conn_args):  # type: ignore
        watchdog = self._watchdog
        idle_timeout_s = self._idle_timeout_s

        class WatchedConnection(http_class):  # type: ignore
            def connect(self) -> None:
                # NOTE: for https this connect includes the TLS handshake, which
                # only the connect timeout bounds, because the socket is watched
                # after it.
                super().connect()
                self.sock.settimeout(idle_timeout_s)
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


def watched_handlers(
    watchdog: SocketWatchdog, idle_timeout_s: float
) -> List[urllib.request.BaseHandler]:
    """Build HTTP and HTTPS handlers whose sockets ``watchdog`` shuts down."""
    handlers: List[urllib.request.BaseHandler] = [
        _WatchedHTTPHandler(watchdog, idle_timeout_s)
    ]
    if HAS_HTTPS:
        handlers.append(_WatchedHTTPSHandler(watchdog, idle_timeout_s))
    return handlers


def shorter_limit(
    limit: Optional[float], remaining: Optional[float]
) -> Optional[float]:
    """Return the smaller of two optional time limits in seconds (None: no limit)."""
    if limit is None:
        return remaining
    if remaining is None:
        return limit
    return min(limit, remaining)


class Client:
    """HTTP client for the booknlp-jobs API at one base URL.

    Every request, including the reading of its response body, ends when
    ``deadline`` passes or one of the request's own time limits runs out.
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
        total_timeout_s: Optional[float] = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """Send one request and yield the open response of a 2xx status.

        ``total_timeout_s`` bounds the whole request, body included. Without it,
        only CONNECT_TIMEOUT_S, IDLE_TIMEOUT_S and the deadline bound it.

        Raises ApiError for an HTTP error status, ConnectionFailed when no
        complete response arrives, RequestTimedOut when a time limit of the
        request runs out, and DeadlineExceeded when the deadline passes first.
        The last two are raised also while the caller reads the body in the
        with block.
        """
        remaining = self._deadline.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(
                f"--timeout {self._deadline.timeout_s:g} s ran out before "
                f"{method} {url}"
            )
        connect_timeout_s, idle_timeout_s = CONNECT_TIMEOUT_S, IDLE_TIMEOUT_S
        if remaining is not None:
            connect_timeout_s = min(connect_timeout_s, remaining)
            idle_timeout_s = min(idle_timeout_s, remaining)
        request = self._build_request(method, url, body, content_type)
        watchdog = SocketWatchdog(shorter_limit(total_timeout_s, remaining))
        opener = urllib.request.build_opener(
            _RejectRedirects, *watched_handlers(watchdog, idle_timeout_s)
        )
        try:
            with self._send(opener, request, connect_timeout_s) as response:
                yield response
        except ApiError:
            raise
        except CliError as err:
            # A socket timeout or a shutdown by the watchdog surfaces as a
            # connection failure, or as a body that ends early and so is
            # invalid JSON.
            if watchdog.fired or self._deadline.expired():
                raise self._cut_off_error(method, url, total_timeout_s) from None
            if isinstance(err, RequestTimedOut):
                raise self._idle_timeout_error(
                    method, url, watchdog.connected, connect_timeout_s,
                    idle_timeout_s,
                ) from None  # fmt: skip
            raise
        finally:
            watchdog.cancel()
        # Reading a socket that the watchdog shut down returns no data rather than
        # an error, so a body read to the end of the connection can look complete.
        if watchdog.fired:
            raise self._cut_off_error(method, url, total_timeout_s)

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
            f"{method} {url} timed out: no complete response within --timeout "
            f"{self._deadline.timeout_s:g} s"
        )

    def _cut_off_error(
        self, method: str, url: str, total_timeout_s: Optional[float]
    ) -> CliError:
        """Build the error for a request that the deadline or its total limit ended."""
        if total_timeout_s is None or self._deadline.expired():
            return self._deadline_error(method, url)
        return self._timeout_error(
            method, url, f"no complete response within {total_timeout_s:g} s"
        )

    def _idle_timeout_error(
        self,
        method: str,
        url: str,
        connected: bool,
        connect_timeout_s: float,
        idle_timeout_s: float,
    ) -> RequestTimedOut:
        if not connected:
            netloc = urllib.parse.urlsplit(url).netloc
            return self._timeout_error(
                method, url, f"no connection to {netloc} within "
                f"{connect_timeout_s:g} s", connected=False,
            )  # fmt: skip
        return self._timeout_error(
            method, url, f"no data from the server for {idle_timeout_s:g} s"
        )

    def _timeout_error(
        self, method: str, url: str, detail: str, connected: bool = True
    ) -> RequestTimedOut:
        return RequestTimedOut(
            f"{method} {url} timed out: {detail}. Check that the server is "
            f"running and responds, for example with: curl {self.url('/v1/health')}",
            connected,
        )

    def get_json(self, path: str) -> JsonObject:
        url = self.url(path)
        with self.open("GET", url, total_timeout_s=JSON_GET_TIMEOUT_S) as response:
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
        # Client.open replaces this message with one that names the time limit.
        return RequestTimedOut(f"request to {url} timed out")
    return ConnectionFailed(f"request to {url} failed: {reason}")


def api_error_from(err: urllib.error.HTTPError, method: str, url: str) -> ApiError:
    """Build an ApiError from the server's ``{"error": {"code", "message"}}`` body."""
    code, message, field = "", "", None
    try:
        body = err.read()
    except (OSError, http.client.HTTPException):
        body = b""
    try:
        detail = json.loads(body)["error"]
        code, message = str(detail.get("code", "")), str(detail.get("message", ""))
        if isinstance(detail.get("field"), str):
            field = detail["field"]
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
    return ApiError(text, err.code, code, retry_after, field)


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

def job_path(job_id: str) -> str:
    return "/v1/jobs/" + urllib.parse.quote(job_id, safe="")
