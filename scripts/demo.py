"""Start the service, analyse a short public-domain story with it, print a summary.

    .venv/bin/python scripts/demo.py [FILE] [--port PORT]

The default FILE is Herman Melville's "Bartleby, the Scrivener" (1853), shipped in
scripts/samples/. The server runs on 127.0.0.1 for the length of the demo and
stops afterwards; the result is written to ``bartleby.booknlp.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE = os.path.join(HERE, "samples", "bartleby.txt")
READY_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> dict[str, object]:
    """Poll /v1/ready until the runner child has loaded its model."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/v1/ready", timeout=5) as response:
                return dict(json.load(response))
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise RuntimeError(f"the server was not ready within {READY_TIMEOUT_S} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("file", nargs="?", default=SAMPLE, help="UTF-8 text to analyse")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"starting the service on {url} ...", flush=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
    )
    try:
        ready = wait_ready(url, server)
        print(f"ready: engine {ready['engine']} on {ready['device']}", flush=True)
        submit = [sys.executable, os.path.join(HERE, "submit.py"), args.file,
                  "--server", url]  # fmt: skip
        return subprocess.call(submit, cwd=os.getcwd())
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
