"""Poll one running job from many concurrent clients and report the latency.

    .venv/bin/python scripts/load_check.py [--book FILE] [--clients 200]
        [--seconds S] [--engine spacy|test]

Starts ``python -m server`` on a free loopback port, submits the book, then runs
CLIENTS concurrent aiohttp clients that each poll ``GET /v1/jobs/{id}`` with a
short sleep between requests, until the job finishes, SECONDS pass or
--max-requests have been sent. Prints the machine, the command, the number of
requests, errors by kind, latency percentiles, requests per second, and the
job's tokens and run time. The load generator runs on the same machine as the
service and competes with it for CPU, so the figures are a lower bound.

Only 127.0.0.1 is contacted. The server's log goes to a temporary file whose
path is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE = os.path.join(HERE, "samples", "bartleby.txt")
sys.path.insert(0, HERE)

from demo import free_port, wait_ready  # noqa: E402

FINISHED = {"completed", "failed", "cancelled"}
REQUEST_TIMEOUT_S = 30.0
MAX_CLIENTS = 2000


@dataclasses.dataclass
class Record:
    """Latencies of successful polls and counts of failures, shared by clients."""

    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    errors: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    last_status: dict[str, Any] = dataclasses.field(default_factory=dict)
    sent: int = 0
    poll_s: float = math.nan

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--book", default=SAMPLE, help="UTF-8 text to submit")
    parser.add_argument(
        "--clients", type=int, default=200, help="concurrent polling clients"
    )
    parser.add_argument(
        "--seconds", type=float, default=600.0,
        help="stop polling after this many seconds even if the job still runs",
    )  # fmt: skip
    parser.add_argument("--engine", choices=["spacy", "test"], default="spacy")
    parser.add_argument(
        "--poll-interval-ms", type=float, default=10.0,
        help="sleep of each client between two polls, in milliseconds",
    )  # fmt: skip
    parser.add_argument(
        "--max-requests", type=int, default=5_000_000,
        help="stop once this many polls have been sent in total",
    )  # fmt: skip
    parser.add_argument(
        "--log-level", default="WARNING",
        help="the server's log level; INFO also logs every request",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if args.seconds <= 0 or args.max_requests <= 0:
        parser.error("--seconds and --max-requests must be positive")
    return args


def percentile(sorted_values: list[float], share: float) -> float:
    """Return the nearest-rank percentile; ``share`` is between 0 and 1."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


async def poll_once(
    session: aiohttp.ClientSession, url: str, record: Record
) -> dict[str, Any] | None:
    """Send one poll; record its latency, or its error by kind and return None."""
    started = time.perf_counter()
    try:
        async with session.get(url) as response:
            body = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        record.errors[type(exc).__name__] += 1
        return None
    if response.status != 200:
        record.errors[f"HTTP {response.status}"] += 1
        return None
    record.latencies_ms.append((time.perf_counter() - started) * 1000)
    record.last_status = body
    return dict(body)


async def poll_job(
    session: aiohttp.ClientSession,
    url: str,
    record: Record,
    deadline: float,
    args: argparse.Namespace,
) -> None:
    """Poll ``url`` until the job finishes, the deadline or the request cap."""
    pause_s = args.poll_interval_ms / 1000
    while time.monotonic() < deadline and record.sent < args.max_requests:
        record.sent += 1
        status = await poll_once(session, url, record)
        if status is not None and status.get("status") in FINISHED:
            return
        await asyncio.sleep(pause_s)


async def submit(session: aiohttp.ClientSession, base: str, text: bytes) -> str:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    async with session.post(f"{base}/v1/jobs", data=text, headers=headers) as reply:
        body = await reply.json()
        if reply.status != 202:
            raise RuntimeError(
                f"submission failed with HTTP {reply.status}: {body}; see the "
                "server log"
            )
        return str(body["job_id"])


async def run_load(base: str, text: bytes, args: argparse.Namespace) -> Record:
    record = Record()
    # One keep-alive connection per client, as separate clients would have.
    connector = aiohttp.TCPConnector(limit=args.clients)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        job_id = await submit(session, base, text)
        print(f"submitted job {job_id}; {args.clients} clients polling", flush=True)
        url = f"{base}/v1/jobs/{job_id}"
        deadline = time.monotonic() + args.seconds
        started = time.monotonic()
        clients = [
            poll_job(session, url, record, deadline, args) for _ in range(args.clients)
        ]
        await asyncio.gather(*clients)
        record.poll_s = time.monotonic() - started
    return record


def machine_summary() -> list[str]:
    memory_gib = psutil.virtual_memory().total / 2**30
    return [
        f"machine: {platform.node()} {platform.platform()}",
        f"cores: {psutil.cpu_count(logical=False)} physical, "
        f"{os.cpu_count()} logical; memory: {memory_gib:.1f} GiB",
        f"python: {platform.python_version()}, aiohttp {aiohttp.__version__}",
    ]


def _seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return math.nan
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))
            ).total_seconds()  # fmt: skip


def report(record: Record, front_cpu_s: float) -> None:
    status = record.last_status
    poll_s = record.poll_s
    latencies = sorted(record.latencies_ms)
    lines = machine_summary() + [
        "command: " + " ".join([os.path.relpath(sys.executable), *sys.argv]),
        f"requests: {record.requests} in {poll_s:.1f} s "
        f"({record.requests / poll_s:.0f} per second)",
        "errors: " + (", ".join(f"{kind} {count}" for kind, count
                                in record.errors.most_common()) or "none"),
        "latency ms (successful polls): " + ", ".join(
            f"{name} {percentile(latencies, share):.1f}"
            for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99),
                                ("max", 1.0))
        ),
        f"front process CPU: {front_cpu_s:.1f} s",
    ]  # fmt: skip
    run_s = _seconds_between(status.get("started_at"), status.get("finished_at"))
    tokens = status.get("tokens_total", 0)
    lines.append(
        f"job: {status.get('status', 'unknown')}, {tokens} tokens, "
        f"{run_s:.1f} s running ({tokens / run_s:.0f} tokens/s), "
        f"{status.get('error') or 'no error'}"
    )
    print("\n".join(lines))


def start_server(
    args: argparse.Namespace, log_path: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the service on a free loopback port; return it and its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port),
        "--engine", args.engine, "--log-level", args.log_level,
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    return server, f"http://127.0.0.1:{port}"


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with open(args.book, "rb") as handle:
        text = handle.read()
    log_path = os.path.join(tempfile.mkdtemp(prefix="load-check-"), "server.log")
    print(f"starting the service ({args.engine}); its log: {log_path}", flush=True)
    server, url = start_server(args, log_path)
    try:
        wait_ready(url, server)
        front = psutil.Process(server.pid)
        cpu_before = sum(front.cpu_times()[:2])
        record = asyncio.run(run_load(url, text, args))
        front_cpu_s = sum(front.cpu_times()[:2]) - cpu_before
    finally:
        stop_server(server)
    report(record, front_cpu_s)
    return 0 if record.last_status.get("status") == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
