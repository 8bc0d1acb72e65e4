#!/usr/bin/env python3
"""Submit a book to a booknlp-jobs server, wait for the job and save its result.

This script uses only the standard library, plus orjson when it is importable, so
it runs with any Python 3.9 or later without installing this project. It imports
the submit_*.py modules in its folder, so copy them together with it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Dict, List, Optional

# Python puts this folder on sys.path when it runs the script, but not under -I,
# -P or PYTHONSAFEPATH, nor when a test loads the file by its path.
SCRIPT_FOLDER = os.path.dirname(os.path.realpath(__file__))
if SCRIPT_FOLDER not in sys.path:
    sys.path.append(SCRIPT_FOLDER)
try:
    from submit_book_file import read_book
    from submit_errors import (
        EXIT_CANCELLED,
        EXIT_ERROR,
        EXIT_FAILED,
        EXIT_INTERRUPTED,
        EXIT_OK,
        EXIT_TIMEOUT,
        ApiError,
        CliError,
        DeadlineExceeded,
    )
    from submit_http import (
        API_KEY_ENV,
        CONNECT_TIMEOUT_S,
        IDLE_TIMEOUT_S,
        JSON_GET_TIMEOUT_S,
        Client,
        Deadline,
    )
    from submit_polling import RECONNECT_GRACE_S, wait_with_progress
    from submit_result import check_output_path, report_outcome
    from submit_upload import DEFAULT_RETRY_AFTER_S, submit_job
except ModuleNotFoundError as error:
    if not (error.name or "").startswith("submit_"):
        raise
    print(
        f"submit.py: its module {error.name}.py is not in {SCRIPT_FOLDER}; copy "
        "all of submit*.py from the scripts folder of booknlp-jobs together",
        file=sys.stderr,
    )
    # Exit code 2 as for any usage error: EXIT_ERROR lives in those modules.
    sys.exit(2)

DEFAULT_SERVER = "http://127.0.0.1:8000"
SERVER_ENV = "BOOKNLP_JOBS_URL"

EPILOG = f"""\
The book is sent byte for byte (CRLF line ends included) as UTF-8, or as UTF-16
or UTF-32 when the file starts with the byte-order mark of that encoding. A file
that is not text (a PDF, ZIP, image or program, or one with NUL bytes or many
control bytes) is rejected before the upload, and so is UTF-16 or UTF-32 without
a byte-order mark, with the iconv command that converts it.
Without --no-wait the script polls the job, shows its progress on stderr, writes
the result JSON to OUT and prints a summary on stdout. With --no-wait it prints
only the job id on stdout, so that JOB=$(submit.py --no-wait book.txt) works.

When the server is busy (HTTP 503, for example a full queue), the script waits
for the seconds in Retry-After, or {DEFAULT_RETRY_AFTER_S:g} s when it is missing
or invalid, and submits again, until --timeout runs out.

Each request has time limits of its own, with or without --timeout:
{CONNECT_TIMEOUT_S:g} s to connect, {IDLE_TIMEOUT_S:g} s without data in either
direction (also while the book uploads and the result downloads), and
{JSON_GET_TIMEOUT_S:g} s for a whole status request. Status requests that time
out or fail to connect are retried for {RECONNECT_GRACE_S:g} s.

environment:
  {SERVER_ENV}      server URL, used when --server is not given
  {API_KEY_ENV}  API key, used when --api-key is not given

exit status:
  {EXIT_OK}    the job completed and the result was saved (or --no-wait submitted it)
  {EXIT_FAILED}    the job failed on the server
  {EXIT_ERROR}    usage error, unreadable input, HTTP error, invalid response from the
       server, unreachable server, or the result could not be written
  {EXIT_CANCELLED}    the job was cancelled
  {EXIT_TIMEOUT}    --timeout ran out, or a request timed out; a job the server accepted
       keeps running there
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C, and the job keeps running on the server
"""


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
        help="book id stored in the result, not empty (default: FILE's stem "
        "without its control and format characters)",
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
    # parse_args fills in the default, to name the URL's source in errors.
    group.add_argument(
        "--server",
        metavar="URL",
        help="base URL of the server, without user info, query or fragment; a "
        f"trailing /v1 is ignored (default: ${SERVER_ENV} or {DEFAULT_SERVER})",
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
    if args.book_id is not None and not args.book_id.strip():
        parser.error(
            "--book-id is empty or only white space; pass a book id, or leave "
            "--book-id out to use the file's stem"
        )
    server_source = "--server"
    if args.server is None:
        args.server = os.environ.get(SERVER_ENV) or DEFAULT_SERVER
        server_source = f"${SERVER_ENV}"
    problem = find_server_url_problem(args.server)
    if problem:
        parser.error(f"{server_source} {problem}")
    args.server = strip_api_version(args.server)
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
    """Describe why ``url`` cannot be the server's base URL, or return None.

    The description starts with the URL, except for one that contains "@": it
    may carry a password as user info, so neither the URL nor a parse error
    that could quote part of it is shown. A password with a raw "?" or "#" can
    put its "@" after them, so the whole URL is checked.
    """
    if "@" in url:
        return user_info_problem(url)
    try:
        parts = urllib.parse.urlsplit(url)
        # Reading the port raises ValueError for one that is out of range.
        parts.port
    except ValueError as err:
        return f"{url!r} is not a valid URL ({err}); for example {DEFAULT_SERVER}"
    if parts.scheme not in ("http", "https"):
        return (
            f"{url!r} must be an http:// or https:// URL; for example "
            f"{DEFAULT_SERVER}"
        )
    if not parts.hostname:
        return f"{url!r} has no host name; for example {DEFAULT_SERVER}"
    base = urllib.parse.urlunsplit(parts[:3] + ("", ""))
    if "?" in url:
        return f"{url!r} has a query; pass the base URL without it: {base}"
    if "#" in url:
        return f"{url!r} has a fragment; pass the base URL without it: {base}"
    return None


def user_info_problem(url: str) -> str:
    """Describe a URL with user info ("user:password@") without showing it.

    The URL without its user info is given as the example to pass instead, but
    only when the "@" ends the user info. A password with a raw "/", "?" or "#"
    splits differently, and the example would show part of it.
    """
    example = DEFAULT_SERVER
    try:
        parts = urllib.parse.urlsplit(url)
        if (
            parts.scheme in ("http", "https")
            and parts.hostname
            and "@" in parts.netloc
            and "@" not in parts.path
        ):
            host = parts.hostname
            netloc = f"[{host}]" if ":" in host else host
            if parts.port is not None:
                netloc += f":{parts.port}"
            example = urllib.parse.urlunsplit(
                (parts.scheme, netloc, parts.path, "", "")
            )
    except ValueError:
        # An invalid port or IPv6 address: the default URL is the example.
        pass
    return (
        "contains '@', so it may carry user info (user:password@), which submit.py "
        "does not send; the URL is not shown here. Pass the base URL without user "
        f"info, such as {example}, and an API key with ${API_KEY_ENV}"
    )


def strip_api_version(url: str) -> str:
    """Remove a trailing /v1 or /v1/ from the base URL, since paths start with /v1."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urllib.parse.urlunsplit(parts[:2] + (path, "", ""))


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


# Unicode categories that the server rejects in a book id: control and format
# characters (such as U+202E, which reverses the text that follows), line and
# paragraph separators, and lone surrogates.
UNSAFE_BOOK_ID_CATEGORIES = ("Cc", "Cf", "Zl", "Zp", "Cs")


def default_book_id(path: Path) -> str:
    """Return the book id made from the file name: its stem, made safe.

    White space characters among the unsafe ones (tab, line breaks) become
    spaces, the others are dropped, and runs of white space become one space.
    Bytes of the name that are not UTF-8 become U+FFFD. The result may be empty.
    """
    stem = path.stem
    try:
        stem = stem.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        pass  # A surrogate outside surrogateescape's range is dropped below as Cs.
    safe_chars = []
    for char in stem:
        if unicodedata.category(char) not in UNSAFE_BOOK_ID_CATEGORIES:
            safe_chars.append(char)
        elif char.isspace():
            safe_chars.append(" ")
    return " ".join("".join(safe_chars).split())


def build_query(args: argparse.Namespace) -> Dict[str, str]:
    query: Dict[str, str] = {}
    book_id = args.book_id
    if book_id is None:
        book_id = default_book_id(args.file)
    if book_id:
        query["book_id"] = book_id
    if args.pipeline:
        query["pipeline"] = ",".join(args.pipeline)
    if args.model:
        query["model"] = args.model
    return query


def book_id_advice(args: argparse.Namespace) -> str:
    """Return what to do when the server rejects the book id."""
    if args.book_id:
        return "pass a valid book id with --book-id ID"
    return (
        f"the book id is made from the file name {args.file.name!r}, so pass one "
        "with --book-id ID"
    )


# ---------------------------------------------------------------------------
# Main


def run(args: argparse.Namespace) -> int:
    book = read_book(args.file)
    output = args.output or Path(f"{args.file.stem}.booknlp.json")
    if not args.no_wait:
        check_output_path(output, args.file)

    deadline = Deadline(args.timeout)
    client = Client(args.server, args.api_key, deadline)
    try:
        job = submit_job(client, book, build_query(args), deadline)
    except ApiError as err:
        if err.field != "book_id":
            raise
        raise CliError(f"{err}; {book_id_advice(args)}") from None
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
