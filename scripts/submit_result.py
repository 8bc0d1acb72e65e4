"""Result of a finished job: --output checks, download, summary and failure report."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Tuple

from submit_errors import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    CliError,
    ConnectionFailed,
    DeadlineExceeded,
    RequestTimedOut,
)
from submit_http import Client, JsonObject, connection_error, job_path
from submit_responses import is_integer

try:
    import orjson
except ImportError:
    orjson = None

DOWNLOAD_BLOCK_BYTES = 1 << 20
TOP_CHARACTERS = 10


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

    Raises CliError, or DeadlineExceeded when the deadline passes and
    RequestTimedOut when no data arrives for IDLE_TIMEOUT_S, with a message
    that names the job and gives the command to fetch the result again.
    """
    url = client.url(job_path(job_id) + "/result")
    hint = fetch_hint(job_id, url, output)
    try:
        return save_result(client, url, output)
    except DeadlineExceeded as err:
        raise DeadlineExceeded(f"{err}. {hint}") from None
    except RequestTimedOut as err:
        raise RequestTimedOut(f"{err}. {hint}") from None
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
