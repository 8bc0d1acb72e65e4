"""The front process stays free of the model's libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY_MODULES = ("torch", "spacy", "transformers", "thinc", "numpy", "runner.engines")

PROBE = f"""
import sys
import server.__main__, server.app, server.routes, server.scheduler
from server.app import create_app
from server.config import Settings
create_app(Settings(engine="spacy"))
loaded = [name for name in {HEAVY_MODULES!r} if name in sys.modules]
print(",".join(loaded))
"""


def test_front_imports_no_engine_libraries() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == ""


def test_runner_modules_shared_with_front_are_light() -> None:
    probe = "import sys, runner.protocol; print('runner.child' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"
