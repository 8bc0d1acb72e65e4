"""scripts/submit.py against the real service with the scripted engine."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "submit.py"


def load_submit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submit_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["submit_script"] = module
    spec.loader.exec_module(module)
    return module


def write_book(folder: Path, name: str, text: str) -> str:
    book = folder / name
    book.write_bytes(text.encode("utf-8"))
    return str(book)


def base_url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def run_submit(*argv: str) -> int:
    # The script blocks on urllib, so it runs in a thread while the loop serves.
    return await asyncio.to_thread(load_submit().main, list(argv))


async def test_submit_writes_result_and_summary(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await make_client()
    book = tmp_path / "tale.txt"
    book.write_bytes(b"#test-engine chunks=5 delay_s=0.05\nOnce upon a time\r\n")
    output = tmp_path / "out.json"
    url = str(client.make_url("")).rstrip("/")
    code = await run_submit(str(book), "--server", url, "--output", str(output),
                            "--poll-interval", "0.05")  # fmt: skip
    assert code == 0
    result = json.loads(output.read_text())
    assert result["book_id"] == "tale"
    assert [token["word"] for token in result["tokens"]][-4:] == ["Once", "upon", "a", "time"]
    assert "tokens" in capsys.readouterr().out


async def test_submit_exits_nonzero_on_failed_job(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await make_client()
    book = write_book(tmp_path, "bad.txt", "#test-engine chunks=3 raise_at=1\nwords")
    code = await run_submit(book, "--server", base_url(client), "--output",
                            str(tmp_path / "o.json"), "--poll-interval", "0.05")  # fmt: skip
    assert code == 1
    assert "scripted failure at chunk 1" in capsys.readouterr().err


async def test_submit_rejected_input_exits_2(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await make_client()
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", base_url(client), "--model", "enormous")
    assert code == 2
    assert "unknown model 'enormous'" in capsys.readouterr().err


async def test_submit_no_wait_prints_job_id(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await make_client()
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", base_url(client), "--no-wait")
    job_id = capsys.readouterr().out.strip().splitlines()[0]
    assert code == 0
    status = await client.get(f"/v1/jobs/{job_id}")
    assert status.status == 200
