"""A fast engine for tests of timing and faults; it does no NLP.

The first line of a text may hold directives that script the run, for example
``#test-engine chunks=20 delay_s=0.05 kill_at=3``:

- ``chunks``: number of progress steps (default 4).
- ``delay_s``: sleep per chunk (default 0).
- ``kill_at``: SIGKILL this process at that chunk, as the OOM killer would.
- ``raise_at``: raise RuntimeError at that chunk.
- ``memory_error_at``: raise MemoryError at that chunk.
- ``memory_error_batch_over``: raise MemoryError at the first chunk while the
  batch size is above this, so that the child's retry with half the batch passes.
- ``exit_at``: call ``sys.exit(3)`` at that chunk, as some libraries do.
- ``allocate_mb``: hold that many MiB for the rest of the run.

When the environment variable ``BOOKNLP_JOBS_TEST_ENGINE_FAIL_WHILE`` names a
file that exists, the engine fails to load, as one with a missing model would.

Tokens are the whitespace-separated words. The result records the wall-clock
start and end of the run and this process's pid, so tests can check ordering.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from typing import Any

import orjson

from runner.engine import Engine, JobRequest, ProgressReporter
from runner.protocol import ALL_COMPONENTS, ENGINES

DIRECTIVE = "#test-engine"


def parse_directives(text: str) -> dict[str, float]:
    """Return the ``key=value`` numbers of a leading ``#test-engine`` line."""
    first_line = text.split("\n", 1)[0]
    if not first_line.startswith(DIRECTIVE):
        return {}
    pairs = re.findall(r"(\w+)=([0-9.]+)", first_line)
    return {key: float(value) for key, value in pairs}


class ScriptedEngine(Engine):
    name = "test"
    batch_size: int | None = 64
    STAGE_WEIGHTS = {"read": 1.0, "analyse": 8.0, "write": 1.0}

    def __init__(self) -> None:
        # No torch here: tests start many children and torch takes seconds to import.
        self.device, self.cuda_device = "cpu", None

    def describe(self) -> dict[str, Any]:
        spec = ENGINES[self.name]
        return {
            "engine": self.name,
            "components": list(spec.components),
            "models": list(spec.models),
            "device": self.device,
            "cuda_device": self.cuda_device,
            "versions": {"python": sys.version.split()[0]},
        }

    def run(self, job: JobRequest, progress: ProgressReporter) -> dict[str, Any]:
        started = time.time()
        with open(job.text_path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        directives = parse_directives(text)
        words = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
        progress.tokens_total = len(words)
        progress.update("read", 1.0, 0)

        held: list[bytearray] = []
        if directives.get("allocate_mb"):
            held.append(bytearray(int(directives["allocate_mb"] * 1024 * 1024)))
        chunks = max(1, int(directives.get("chunks", 4)))
        for index in range(chunks):
            over = directives.get("memory_error_batch_over")
            if over is not None and (self.batch_size or 0) > over:
                raise MemoryError(f"scripted MemoryError at batch size {self.batch_size}")
            _apply_fault(directives, index)
            time.sleep(directives.get("delay_s", 0.0))
            done = len(words) * (index + 1) // chunks
            progress.update("analyse", (index + 1) / chunks, done)

        result = {
            "job_id": job.job_id,
            "book_id": job.book_id,
            "engine": self.name,
            "model": job.model,
            "components": list(job.components),
            "device": self.device,
            "text": {"chars": len(text), "tokens": len(words)},
            "tokens": [
                {"token_id": i, "word": word, "start": start, "end": end}
                for i, (word, start, end) in enumerate(words)
            ],
            **{name: [] for name in ALL_COMPONENTS if name != "tokens"},
            "run": {"pid": os.getpid(), "started": started, "finished": time.time(),
                    "batch_size": self.batch_size},
        }
        with open(job.result_path + ".part", "wb") as handle:
            handle.write(orjson.dumps(result))
        os.replace(job.result_path + ".part", job.result_path)
        progress.update("write", 1.0, len(words))
        return {"tokens": len(words)}


def _apply_fault(directives: dict[str, float], chunk: int) -> None:
    if directives.get("kill_at") == chunk:
        os.kill(os.getpid(), signal.SIGKILL)
    if directives.get("raise_at") == chunk:
        raise RuntimeError(f"scripted failure at chunk {chunk}")
    if directives.get("memory_error_at") == chunk:
        raise MemoryError(f"scripted MemoryError at chunk {chunk}")
    if directives.get("exit_at") == chunk:
        sys.exit(3)


FAIL_WHILE_ENV = "BOOKNLP_JOBS_TEST_ENGINE_FAIL_WHILE"


def create_engine() -> ScriptedEngine:
    """Return the engine.

    Raises:
        RuntimeError: the file named by ``BOOKNLP_JOBS_TEST_ENGINE_FAIL_WHILE`` exists.
    """
    flag = os.environ.get(FAIL_WHILE_ENV)
    if flag and os.path.exists(flag):
        raise RuntimeError(f"scripted load failure while {flag} exists")
    return ScriptedEngine()
