#!/usr/bin/env python3
"""Submit a book to a booknlp-jobs server, wait for the job and save its result.

This script uses only the standard library, plus orjson when it is importable, so
it runs with any Python 3.9 or later without installing this project.
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import io
import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO, Union

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
SOCKET_TIMEOUT_S = 60.0
# Wait used when a 503 response has a Retry-After of 0 or one that cannot be
# parsed, so that the retries do not run in a tight loop.
DEFAULT_RETRY_AFTER_S = 5.0
# How long polling keeps retrying after the connection fails. It covers a short
# outage such as a restart under systemd (RestartSec=5 plus the start-up time).
RECONNECT_GRACE_S = 60.0
DOWNLOAD_BLOCK_BYTES = 1 << 20
TOP_CHARACTERS = 10
PROGRESS_BAR_WIDTH = 30
TERMINAL_STATUSES = ("completed", "failed", "cancelled")

JsonObject = Dict[str, Any]

EPILOG = f"""\
The book is sent as raw UTF-8 text, byte for byte (CRLF line ends included).
Without --no-wait the script polls the job, shows its progress on stderr, writes
the result JSON to OUT and prints a summary on stdout. With --no-wait it prints
only the job id on stdout, so that JOB=$(submit.py --no-wait book.txt) works.

When the server queue is full (HTTP 503 with Retry-After), the script waits for
the seconds given in Retry-After and submits again, until --timeout runs out.

environment:
  {SERVER_ENV}      server URL, used when --server is not given
  {API_KEY_ENV}  API key, used when --api-key is not given

exit status:
  {EXIT_OK}    the job completed and the result was saved (or --no-wait submitted it)
  {EXIT_FAILED}    the job failed on the server
  {EXIT_ERROR}    usage error, unreadable input, HTTP error or unreachable server
  {EXIT_CANCELLED}    the job was cancelled
  {EXIT_TIMEOUT}    --timeout ran out, and a submitted job keeps running on the server
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
        "file", type=Path, metavar="FILE", help="UTF-8 text of the book"
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
    group.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get(API_KEY_ENV),
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
        help="maximum seconds to wait for the job, including waits for a full "
        "queue (default: no limit). The job keeps running on the server afterwards.",
    )


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.poll_interval <= 0:
        parser.error(
            f"--poll-interval must be greater than 0, got {args.poll_interval}"
        )
    if args.timeout is not None and args.timeout <= 0:
        parser.error(f"--timeout must be greater than 0, got {args.timeout}")
    scheme = urllib.parse.urlsplit(args.server).scheme
    if scheme not in ("http", "https"):
        parser.error(
            f"--server must be an http:// or https:// URL, got {args.server!r}; "
            f"for example {DEFAULT_SERVER}"
        )
    if args.pipeline is not None:
        args.pipeline = split_components(args.pipeline)
        if not args.pipeline:
            parser.error("--pipeline needs at least one component name")
    return args


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


class Client:
    """HTTP client for the booknlp-jobs API at one base URL."""

    def __init__(self, base_url: str, api_key: Optional[str]) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._opener = urllib.request.build_opener(_RejectRedirects)

    def url(self, path: str, query: Optional[Dict[str, str]] = None) -> str:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def open(
        self,
        method: str,
        url: str,
        body: Optional[bytes] = None,
        content_type: Optional[str] = None,
    ) -> http.client.HTTPResponse:
        """Send one request and return the open response of a 2xx status.

        Raises ApiError for an HTTP error status and ConnectionFailed when no
        response arrives.
        """
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
        try:
            return self._opener.open(request, timeout=SOCKET_TIMEOUT_S)
        except urllib.error.HTTPError as err:
            raise api_error_from(err, method, url) from None
        except urllib.error.URLError as err:
            raise connection_error(url, err.reason) from None
        except (OSError, http.client.HTTPException) as err:
            # urllib wraps errors raised while sending in URLError, but errors
            # while reading the status line (a reset, a timeout) come unwrapped.
            raise connection_error(url, err) from None

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
    """Return the wait in seconds from a Retry-After of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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
        time.sleep(seconds if remaining is None else min(seconds, remaining))


# ---------------------------------------------------------------------------
# Submission


def read_book(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CliError(f"cannot read {path}: {err.strerror or err}") from None
    if not data:
        raise CliError(f"{path} is empty; give a file that contains the book's text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CliError(
            f"{path} is not valid UTF-8 (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); convert it first, e.g. with "
            f"iconv -f latin1 -t utf-8 {path} > {path.stem}.utf8.txt"
        ) from None
    return data


def build_query(args: argparse.Namespace) -> Dict[str, str]:
    query = {"book_id": args.book_id or args.file.stem}
    if args.pipeline:
        query["pipeline"] = ",".join(args.pipeline)
    if args.model:
        query["model"] = args.model
    return query


def submit_job(
    client: Client, text: bytes, query: Dict[str, str], deadline: Deadline
) -> JsonObject:
    """POST the book and return the job description of the 202 response.

    A 503 with Retry-After (a full queue) is retried after the requested wait until
    the deadline. Other errors are not retried, because a POST that reached the
    server may already have created a job.
    """
    url = client.url("/v1/jobs", query)
    while True:
        try:
            with client.open(
                "POST", url, text, "text/plain; charset=utf-8"
            ) as response:
                job = decode_json_object(read_body(response, url), url)
                location = response.headers.get("Location")
            break
        except ApiError as err:
            if err.status != 503 or err.retry_after is None:
                raise
            wait_for_retry(err, deadline)
    if not isinstance(job.get("job_id"), str):
        raise CliError(f"the response from {url} has no job_id: {job}")
    if location:
        job["status_url"] = urllib.parse.urljoin(url, location)
    else:
        job["status_url"] = client.url(job_path(job["job_id"]))
    return job


def wait_for_retry(err: ApiError, deadline: Deadline) -> None:
    if deadline.expired():
        raise DeadlineExceeded(
            f"gave up after --timeout {deadline.timeout_s:g} s; the last response "
            f"was: {err}"
        )
    wait = err.retry_after or DEFAULT_RETRY_AFTER_S
    remaining = deadline.remaining()
    if remaining is not None and remaining < wait:
        wait = remaining
    reason = "the server queue is full" if err.code == "queue_full" else str(err)
    print(f"{reason}; retrying in {wait:.0f} s", file=sys.stderr)
    deadline.sleep(wait)


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
            filled = round(PROGRESS_BAR_WIDTH * min(percent, 100.0) / 100.0)
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
            display.update(job)
            status = job.get("status")
            if status in TERMINAL_STATUSES:
                return job
            if status not in ("pending", "running"):
                raise CliError(f"job {job_id} has an unknown status {status!r}")
        if deadline.expired():
            raise DeadlineExceeded(
                f"job {job_id} did not finish within --timeout {deadline.timeout_s:g} s"
            )
        deadline.sleep(interval)


# ---------------------------------------------------------------------------
# Result


def check_output_path(output: Path) -> None:
    """Fail before submitting when the result could not be written later."""
    if output.is_dir():
        raise CliError(f"--output {output} is a folder; give a file path")
    folder = output.parent
    if not folder.is_dir():
        raise CliError(
            f"the folder of --output {output} does not exist; create it first"
        )
    if not os.access(folder, os.W_OK):
        raise CliError(f"the folder {folder} is not writable; choose another --output")


def download_result(client: Client, job_id: str, output: Path) -> int:
    """Stream the result JSON to ``output`` in blocks and return its size in bytes.

    The body goes to ``OUT.part`` first and replaces ``output`` only when it is
    complete, so an interrupted download never leaves a truncated result behind.
    """
    url = client.url(job_path(job_id) + "/result")
    partial = output.with_name(output.name + ".part")
    try:
        with client.open("GET", url) as response:
            expected = response.headers.get("Content-Length")
            size = copy_body(response, url, partial)
        # http.client does not raise when a body with Content-Length ends early
        # and is read in blocks, so the length is checked here.
        if expected is not None and expected.isdigit() and size != int(expected):
            raise ConnectionFailed(
                f"the download from {url} ended after {size} of {expected} bytes"
            )
        os.replace(partial, output)
    except ConnectionFailed as err:
        partial.unlink(missing_ok=True)
        raise CliError(
            f"{err}. The server keeps a result for BOOKNLP_JOBS_RESULT_TTL_S seconds "
            "(default 3600), so fetch it with: "
            f"curl -fo {output} {url} (add -H 'Authorization: Bearer ...' if the "
            "server needs an API key)"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size


def copy_body(response: http.client.HTTPResponse, url: str, path: Path) -> int:
    size = 0
    try:
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
    except OSError as err:
        raise CliError(f"cannot write {path}: {err.strerror or err}") from None


def load_result(path: Path) -> JsonObject:
    data = path.read_bytes()
    try:
        result = orjson.loads(data) if orjson else json.loads(data)
    except ValueError as err:
        raise CliError(f"the result in {path} is not valid JSON: {err}") from None
    if not isinstance(result, dict):
        raise CliError(f"the result in {path} is not a JSON object")
    return result


def count_tokens(result: JsonObject) -> Any:
    tokens = (result.get("text") or {}).get("tokens")
    return len(tokens) if isinstance(tokens, list) else tokens


def format_summary(result: JsonObject, output: Path, size: int) -> str:
    lines = [
        f"result written to {output} ({size:,} bytes)",
        f"tokens      {count_tokens(result)}",
        f"quotes      {len(result.get('quotes') or [])}",
        f"entities    {len(result.get('entities') or [])}",
        f"events      {len(result.get('events') or [])}",
    ]
    characters = sorted(
        result.get("characters") or [],
        key=lambda character: character.get("mention_count") or 0,
        reverse=True,
    )
    lines.append(f"characters  {len(characters)}")
    if characters:
        lines.append(
            f"top {min(TOP_CHARACTERS, len(characters))} characters by mentions:"
        )
        lines.append(f"  {'mentions':>8}  {'gender':<12}  name")
    for character in characters[:TOP_CHARACTERS]:
        gender = (character.get("gender") or {}).get("argmax") or "-"
        name = character.get("name") or f"#{character.get('character_id')}"
        lines.append(
            f"  {character.get('mention_count') or 0:>8}  {gender:<12}  {name}"
        )
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
    text = read_book(args.file)
    output = args.output or Path(f"{args.file.stem}.booknlp.json")
    if not args.no_wait:
        check_output_path(output)

    client = Client(args.server, args.api_key)
    deadline = Deadline(args.timeout)
    job = submit_job(client, text, build_query(args), deadline)
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
