"""Upload of the book as a new job, retried while the server is busy (HTTP 503)."""

from __future__ import annotations

import sys
import urllib.parse
from typing import Dict

from submit_book_file import Book
from submit_errors import ApiError, CliError, DeadlineExceeded, RequestTimedOut
from submit_http import (
    Client,
    Deadline,
    JsonObject,
    decode_json_object,
    job_path,
    read_body,
)

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
            raise DeadlineExceeded(f"{err}. {job_list_hint(client)}") from None
        except RequestTimedOut as err:
            if not err.connected:
                raise
            raise RequestTimedOut(f"{err}. {job_list_hint(client)}") from None
    job_id = job.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise CliError(f"the response from {url} has no job_id: {job}")
    if location:
        job["status_url"] = urllib.parse.urljoin(url, location)
    else:
        job["status_url"] = client.url(job_path(job_id))
    return job


def job_list_hint(client: Client) -> str:
    return (
        "The server may have created the job anyway, so list the jobs with "
        f"GET {client.url('/v1/jobs')} before submitting again"
    )


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
