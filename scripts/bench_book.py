"""Measure one book through the whole service: speed, child memory, progress.

    .venv/bin/python scripts/bench_book.py BOOK [--engine spacy] [--model M] [--max-tokens N]

Starts ``python -m server`` on a free loopback port, waits for the runner child,
submits BOOK, polls its status every 0.1 s while sampling the child's resident
memory with psutil, then prints tokens per second (submission to completion, so
queueing and writing the result count), the child's peak RSS, the number of
distinct progress values seen, and the engine's time per stage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from typing import Any

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from demo import free_port, wait_ready  # noqa: E402


def request_json(url: str, data: bytes | None = None, **headers: str) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def high_water_mark(pid: int) -> int:
    """Return the process's peak RSS in bytes from Linux's VmHWM, or 0 elsewhere.

    Sampling misses short spikes; the kernel's high-water mark does not.
    """
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run(book: str, engine: str, max_tokens: int, model: str | None) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, BOOKNLP_JOBS_ENGINE=engine,
               BOOKNLP_JOBS_MAX_TOKENS=str(max_tokens), BOOKNLP_JOBS_LOG_LEVEL="WARNING")  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port)], cwd=ROOT, env=env
    )
    try:
        ready = wait_ready(url, server)
        child = psutil.Process(int(ready["child_pid"]))
        idle_rss = child.memory_info().rss
        with open(book, "rb") as handle:
            body = handle.read()
        started = time.monotonic()
        query = f"?model={model}" if model else ""
        job = request_json(
            f"{url}/v1/jobs{query}", body, **{"Content-Type": "text/plain"}
        )
        peak_rss, progress_values, status = idle_rss, set(), {}
        while status.get("status") not in ("completed", "failed", "cancelled"):
            time.sleep(0.1)
            status = request_json(f"{url}/v1/jobs/{job['job_id']}")
            progress_values.add(status["progress"])
            peak_rss = max(peak_rss, child.memory_info().rss)
        elapsed = time.monotonic() - started
        if status["status"] != "completed":
            raise RuntimeError(f"job ended {status['status']}: {status['error']}")
        result = request_json(f"{url}/v1/jobs/{job['job_id']}/result")
        peak_rss = max(peak_rss, high_water_mark(child.pid))
    finally:
        server.terminate()
        server.wait(timeout=60)
    tokens = result["text"]["tokens"]
    return {
        "book": os.path.basename(book),
        "engine": engine,
        "model": result["model"],
        "device": ready["device"],
        "tokens": tokens,
        "seconds": round(elapsed, 1),
        "tokens_per_s": round(tokens / elapsed),
        "child_idle_rss_mb": round(idle_rss / 2**20),
        "child_peak_rss_mb": round(peak_rss / 2**20),
        "distinct_progress_values": len(progress_values),
        "characters": len(result["characters"]),
        "quotes": len(result["quotes"]),
        "entities": len(result["entities"]),
        "events": len(result["events"]),
        "stage_seconds": result.get("timings", {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("book", help="UTF-8 text file")
    parser.add_argument("--engine", default="spacy")
    parser.add_argument("--max-tokens", type=int, default=1_000_000)
    parser.add_argument(
        "--model", help="model to request (default: the engine's default)"
    )
    args = parser.parse_args()
    figures = run(args.book, args.engine, args.max_tokens, args.model)
    print(f"machine: {platform.node()} {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.processor() or platform.machine()}")  # fmt: skip
    for key, value in figures.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
