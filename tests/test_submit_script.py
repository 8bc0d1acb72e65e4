"""scripts/submit.py against the real service with the scripted engine."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Awaitable, Callable, Dict, Iterator, Optional

import pytest
from aiohttp import web
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
    words = [token["word"] for token in result["tokens"]]
    assert words[-4:] == ["Once", "upon", "a", "time"]
    assert "tokens" in capsys.readouterr().out


async def test_submit_exits_nonzero_on_failed_job(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await make_client()
    book = write_book(tmp_path, "bad.txt", "#test-engine chunks=3 raise_at=1\nwords")
    code = await run_submit(book, "--server", base_url(client),
                            "--output", str(tmp_path / "o.json"),
                            "--poll-interval", "0.05")  # fmt: skip
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


@pytest.mark.parametrize(
    ("name", "book_id"),
    [("tab\there.txt", "tab here"), ("\u202eevil.txt", "evil"),
     ("bell\x07 and\u2028line.txt", "bell and line")],
)  # fmt: skip
async def test_file_name_made_safe_book_id(
    make_client: ClientFactory, tmp_path: Path, name: str, book_id: str
) -> None:
    client = await make_client()
    book = write_book(tmp_path, name, "some words")
    output = tmp_path / "out.json"
    code = await run_submit(book, "--server", base_url(client), "--output",
                            str(output), "--poll-interval", "0.05")  # fmt: skip
    assert code == 0
    assert json.loads(output.read_text())["book_id"] == book_id


async def test_rejected_book_id_names_option(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await make_client()
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", base_url(client), "--book-id", "a\u202eb")
    err = capsys.readouterr().err
    assert code == 2
    assert "U+202E" in err
    assert "pass a valid book id with --book-id ID" in err


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


# ---------------------------------------------------------------------------
# Misbehaving servers and invalid input, against a stand-in server on 127.0.0.1

# How long a stalling handler of the stand-in server delays its response. It is far
# above the --timeout that these tests pass, so a script that does not end the
# request at its --timeout gets the handler's late response and a different exit
# status.
STALL_S = 30.0
JOB_ID = "job-1"
STATUS_PATH = f"/v1/jobs/{JOB_ID}"
RESULT = {"book_id": "book", "text": {"tokens": 2}, "tokens": [], "characters": []}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class MockServer:
    url: str
    # "METHOD /path" of each request, in the order they arrived.
    requests: list[str]
    # Set when the test ends, so that stalling handlers return.
    release: asyncio.Event


MockFactory = Callable[[Dict[str, Handler]], Awaitable[MockServer]]


@pytest.fixture
def mock_server(aiohttp_server: Any) -> Iterator[MockFactory]:
    """Return a factory for a server on 127.0.0.1 with the given route handlers."""
    release = asyncio.Event()

    async def start(routes: Dict[str, Handler]) -> MockServer:
        requests: list[str] = []

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            requests.append(f"{request.method} {request.path}")
            return await handler(request)

        app = web.Application(middlewares=[record])
        for route, handler in routes.items():
            method, path = route.split(" ", 1)
            app.router.add_route(method, path, handler)
        server = await aiohttp_server(app, host="127.0.0.1")
        return MockServer(str(server.make_url("")).rstrip("/"), requests, release)

    yield start
    # This teardown runs before aiohttp_server's, which waits for open handlers.
    release.set()


async def stall(release: asyncio.Event) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(release.wait(), STALL_S)


async def accept_job(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"job_id": JOB_ID, "status": "pending"}, status=202)


def reply_json(body: Any, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    return handler


def completed_job_routes() -> Dict[str, Handler]:
    return {
        "POST /v1/jobs": accept_job,
        f"GET {STATUS_PATH}": reply_json({"status": "completed", "progress": 100}),
        f"GET {STATUS_PATH}/result": reply_json(RESULT),
    }


async def run_patched(
    monkeypatch: pytest.MonkeyPatch,
    module_name: str,
    constants: Dict[str, Any],
    *argv: str,
) -> int:
    """Run the script with constants of one of its modules replaced.

    The modules beside submit.py stay in sys.modules from one run to the next, so
    monkeypatch restores the constants when the test ends.
    """
    script = load_submit()
    module = sys.modules[module_name]
    for name, value in constants.items():
        assert hasattr(module, name), name
        monkeypatch.setattr(module, name, value)
    return await asyncio.to_thread(script.main, list(argv))


def error_line(stderr: str) -> str:
    """Return the script's final "error: ..." line, or "" when there is none."""
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    return lines[-1] if lines else ""


def hard_link(book: Path, folder: Path) -> str:
    link = folder / "linked.txt"
    os.link(book, link)
    return str(link)


def symbolic_link(book: Path, folder: Path) -> str:
    link = folder / "alias.txt"
    link.symlink_to(book)
    return str(link)


async def test_copied_script_runs_isolated(
    mock_server: MockFactory, tmp_path: Path
) -> None:
    # -I leaves the script's folder off sys.path, as -P and PYTHONSAFEPATH do, and
    # the copy has no project beside it, so submit.py has to find its own modules.
    server = await mock_server(completed_job_routes())
    folder = tmp_path / "copied-scripts"
    folder.mkdir()
    for module in SCRIPT.parent.glob("submit*.py"):
        shutil.copy(module, folder)
    book = write_book(tmp_path, "book.txt", "some words")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", str(folder / "submit.py"), book, "--server", server.url,
        "--no-wait", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == JOB_ID
    assert server.requests == ["POST /v1/jobs"]


def test_lone_copied_script_names_modules(tmp_path: Path) -> None:
    folder = tmp_path / "lone"
    folder.mkdir()
    shutil.copy(SCRIPT, folder)
    completed = subprocess.run(
        [sys.executable, "-I", str(folder / "submit.py"), "book.txt"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "submit_book_file.py is not in" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "make_output",
    [
        pytest.param(lambda book, folder: str(book), id="same-path"),
        pytest.param(
            lambda book, folder: str(folder / "sub" / ".." / book.name), id="dot-dot"
        ),
        pytest.param(symbolic_link, id="symlink"),
        pytest.param(hard_link, id="hard-link"),
    ],
)
async def test_output_same_as_book_rejected(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_output: Callable[[Path, Path], str],
) -> None:
    server = await mock_server(completed_job_routes())
    (tmp_path / "sub").mkdir()
    book = tmp_path / "book.txt"
    book.write_bytes(b"some words")
    output = make_output(book, tmp_path)
    code = await run_submit(str(book), "-o", output, "--server", server.url,
                            "--poll-interval", "0.05")  # fmt: skip
    assert code == 2
    assert book.read_bytes() == b"some words"
    assert server.requests == []
    assert "choose another --output" in error_line(capsys.readouterr().err)


async def test_part_file_same_as_book_rejected(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The download goes to OUT.part before it replaces OUT.
    server = await mock_server(completed_job_routes())
    book = tmp_path / "out.json.part"
    book.write_bytes(b"some words")
    output = str(tmp_path / "out.json")
    code = await run_submit(str(book), "-o", output, "--server", server.url,
                            "--poll-interval", "0.05")  # fmt: skip
    assert code == 2
    assert book.read_bytes() == b"some words"
    assert server.requests == []
    assert str(book) in error_line(capsys.readouterr().err)


def proc_output(tmp_path: Path) -> str:
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux /proc, a folder where no file can be created")
    return "/proc/booknlp-result.json"


def fifo_output(tmp_path: Path) -> str:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    return str(fifo)


@pytest.mark.parametrize(
    ("make_output", "expected"),
    [
        pytest.param(proc_output, "cannot create files in /proc", id="proc"),
        pytest.param(
            lambda tmp_path: str(tmp_path / "missing" / "out.json"),
            "does not exist",
            id="missing-folder",
        ),
        pytest.param(fifo_output, "not a regular file", id="fifo"),
    ],
)
async def test_unwritable_output_rejected_before_submit(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_output: Callable[[Path], str],
    expected: str,
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "-o", make_output(tmp_path), "--server", server.url,
                            "--poll-interval", "0.05")  # fmt: skip
    assert code == 2
    assert server.requests == []
    assert expected in error_line(capsys.readouterr().err)


async def test_output_write_failure_names_job(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()

    async def remove_folder_then_complete(request: web.Request) -> web.Response:
        # The folder passed the check before the submission and is gone when
        # the result arrives.
        shutil.rmtree(folder, ignore_errors=True)
        return web.json_response({"status": "completed", "progress": 100})

    routes = completed_job_routes()
    routes[f"GET {STATUS_PATH}"] = remove_folder_then_complete
    server = await mock_server(routes)
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "-o", str(folder / "out.json"), "--server",
                            server.url, "--poll-interval", "0.05")  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 2
    assert f"job {JOB_ID}" in error
    assert f"{server.url}{STATUS_PATH}/result" in error


async def test_timeout_ends_stalled_submission(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server: MockServer

    async def stall_then_fail(request: web.Request) -> web.Response:
        await stall(server.release)
        return web.json_response({"error": {"code": "late"}}, status=500)

    server = await mock_server({"POST /v1/jobs": stall_then_fail})
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url, "--timeout", "1",
                            "-o", str(tmp_path / "out.json"))  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 4
    assert "--timeout 1 s" in error
    assert "list the jobs" in error


async def test_timeout_ends_stalled_status_request(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server: MockServer

    async def stall_then_report_failure(request: web.Request) -> web.Response:
        await stall(server.release)
        return web.json_response({"status": "failed", "progress": 0})

    server = await mock_server(
        {"POST /v1/jobs": accept_job, f"GET {STATUS_PATH}": stall_then_report_failure}
    )
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url, "--timeout", "1",
                            "-o", str(tmp_path / "out.json"))  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 4
    assert f"job {JOB_ID} did not finish within --timeout 1 s" in error


async def test_timeout_ends_trickling_response(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each byte arrives well within the socket timeout, so only a bound on the
    # whole request stops this one.
    server: MockServer
    server = await mock_server(
        {
            "POST /v1/jobs": trickle_handler(
                lambda: server, {"job_id": JOB_ID, "status": "pending"}, 202
            ),
            f"GET {STATUS_PATH}": reply_json({"status": "failed", "progress": 0}),
        }
    )
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url, "--timeout", "1",
                            "-o", str(tmp_path / "out.json"))  # fmt: skip
    assert code == 4
    assert "--timeout 1 s" in error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("status", "named"),
    [
        pytest.param({"status": "exploded", "progress": "lots"}, "'exploded'",
                     id="unknown-status"),
        pytest.param({"status": "running", "progress": "lots"}, "'lots'",
                     id="text-progress"),
        pytest.param({"status": "running", "progress": True}, "True",
                     id="boolean-progress"),
        pytest.param({"status": "pending", "queue_position": "3"}, "'3'",
                     id="text-queue-position"),
        pytest.param({"status": "running", "stage": ["tagging"]}, "['tagging']",
                     id="list-stage"),
        pytest.param({"status": "running", "tokens_done": 1.5}, "1.5",
                     id="fractional-tokens"),
        pytest.param({"status": "failed", "error": "boom"}, "'boom'",
                     id="text-error"),
        pytest.param({"status": "failed", "error": {"code": 7}}, "7",
                     id="numeric-error-code"),
        pytest.param({"progress": 5}, "None", id="missing-status"),
    ],
)  # fmt: skip
async def test_invalid_status_reply_exits_2(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: Dict[str, Any],
    named: str,
) -> None:
    server = await mock_server(
        {"POST /v1/jobs": accept_job, f"GET {STATUS_PATH}": reply_json(status)}
    )
    book = write_book(tmp_path, "book.txt", "some words")
    output = str(tmp_path / "out.json")
    code = await run_submit(book, "--server", server.url, "--timeout", "5",
                            "--poll-interval", "0.05", "-o", output)  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 2
    assert f"invalid response from {server.url}{STATUS_PATH}" in error
    assert named in error


async def test_invalid_result_fields_summarized(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = {
        "text": "not an object",
        "quotes": 5,
        "characters": [
            "not an object",
            {"name": "Ann", "mention_count": "many", "gender": "f"},
            {"name": "Bob", "mention_count": 3, "gender": {"argmax": "he/him"}},
        ],
    }
    routes = completed_job_routes()
    routes[f"GET {STATUS_PATH}/result"] = reply_json(result)
    server = await mock_server(routes)
    book = write_book(tmp_path, "book.txt", "some words")
    output = tmp_path / "out.json"
    code = await run_submit(book, "--server", server.url, "-o", str(output),
                            "--poll-interval", "0.05")  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert json.loads(output.read_text()) == result
    assert "quotes      ?" in lines
    assert "characters  3" in lines
    names = [line.split()[-1] for line in lines if line.endswith(("Ann", "Bob"))]
    assert names == ["Bob", "Ann"]


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("abc\r\nX-Evil: 1", "$BOOKNLP_JOBS_API_KEY"),
        ("abc\x1bdef", "$BOOKNLP_JOBS_API_KEY"),
        ("abc\x00def", "--api-key"),
        ("abc\u00e9def", "$BOOKNLP_JOBS_API_KEY"),
        ("abc\u20acdef", "--api-key"),
        ("abc\ndef", "--api-key"),
    ],
)
async def test_api_key_invalid_in_header_rejected(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    source: str,
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    argv = [book, "--server", server.url, "--no-wait"]
    if source == "--api-key":
        argv += ["--api-key", key]
    else:
        monkeypatch.setenv("BOOKNLP_JOBS_API_KEY", key)
    code = await run_submit(*argv)
    stderr = capsys.readouterr().err
    assert code == 2
    assert server.requests == []
    assert source in stderr
    assert "abc" not in stderr
    assert "def" not in stderr
    assert "X-Evil" not in stderr


@pytest.mark.parametrize("retry_after", [None, "-1", "nan", "\u00b2", "soon"])
async def test_bad_retry_after_still_retried(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    retry_after: Optional[str],
) -> None:
    attempts = 0

    async def full_then_accept(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            return await accept_job(request)
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        body = {"error": {"code": "queue_full", "message": "10 jobs wait"}}
        return web.json_response(body, status=503, headers=headers)

    server = await mock_server({"POST /v1/jobs": full_then_accept})
    book = write_book(tmp_path, "book.txt", "some words")
    # A short default wait keeps the test fast, and the retry path is unchanged.
    code = await run_patched(monkeypatch, "submit_upload",
                             {"DEFAULT_RETRY_AFTER_S": 0.05},
                             book, "--server", server.url, "--no-wait")  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.strip() == JOB_ID
    assert server.requests == ["POST /v1/jobs", "POST /v1/jobs"]
    assert "the server queue is full; retrying" in captured.err


async def test_busy_server_retries_end_at_timeout(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"error": {"code": "queue_full", "message": "10 jobs wait"}}
    server = await mock_server({"POST /v1/jobs": reply_json(body, status=503)})
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url, "--no-wait",
                            "--timeout", "1")  # fmt: skip
    stderr = capsys.readouterr().err
    assert code == 4
    assert server.requests == ["POST /v1/jobs"]
    assert "the server queue is full; retrying" in stderr
    assert "gave up after --timeout 1 s" in error_line(stderr)


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                     id="utf-16-le"),
        pytest.param(lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
                     id="utf-16-be"),
        pytest.param(lambda text: codecs.BOM_UTF32_LE + text.encode("utf-32-le"),
                     id="utf-32-le"),
        pytest.param(lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
                     id="utf-8-bom"),
    ],
)  # fmt: skip
async def test_book_with_byte_order_mark_decoded(
    make_client: ClientFactory,
    tmp_path: Path,
    encode: Callable[[str], bytes],
) -> None:
    client = await make_client()
    book = tmp_path / "book.txt"
    book.write_bytes(encode("\u00c9mile reads a book"))
    output = tmp_path / "out.json"
    code = await run_submit(str(book), "--server", base_url(client), "-o",
                            str(output), "--poll-interval", "0.05")  # fmt: skip
    assert code == 0
    result = json.loads(output.read_text(encoding="utf-8"))
    words = [token["word"] for token in result["tokens"]]
    assert words == ["\u00c9mile", "reads", "a", "book"]


@pytest.mark.parametrize(
    ("data", "expected", "wrong_advice"),
    [
        # Converting UTF-16 from Latin-1 would corrupt the text.
        pytest.param("Hello".encode("utf-16-le"), "UTF-16", "-f latin1",
                     id="utf-16-no-bom"),
        pytest.param(codecs.BOM_UTF16_LE + b"H\x00e", "not valid UTF-16", "-f latin1",
                     id="utf-16-truncated"),
        pytest.param(b"caf\xe9", "not valid UTF-8", None, id="latin-1"),
    ],
)  # fmt: skip
async def test_book_encoding_error_names_encoding(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    expected: str,
    wrong_advice: Optional[str],
) -> None:
    server = await mock_server(completed_job_routes())
    book = tmp_path / "book.txt"
    book.write_bytes(data)
    code = await run_submit(str(book), "--server", server.url, "--no-wait")
    error = error_line(capsys.readouterr().err)
    assert code == 2
    assert server.requests == []
    assert expected in error
    if wrong_advice is not None:
        assert wrong_advice not in error


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://127.0.0.1:99999", "http://", "ftp://127.0.0.1"]
)
async def test_invalid_server_url_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", url, "--no-wait")
    assert code == 2
    assert f"--server {url!r}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url_suffix", "words"),
    [
        ("?x=1", "has a query"),
        ("?", "has a query"),
        ("#frag", "has a fragment"),
        ("/v1?x=1", "has a query"),
    ],
)
async def test_server_url_query_rejected(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    url_suffix: str,
    words: str,
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url + url_suffix, "--no-wait")
    stderr = capsys.readouterr().err
    assert code == 2
    assert server.requests == []
    assert words in stderr
    assert "pass the base URL without it" in stderr


@pytest.mark.parametrize(
    "make_url",
    [
        pytest.param(lambda url: url.replace("//", "//reader:s3cret-pw@"),
                     id="user-and-password"),
        pytest.param(lambda url: url.replace("//", "//s3cret-pw@"), id="user-only"),
        pytest.param(lambda url: url.replace("//", "//reader:s3cret/pw@"),
                     id="password-with-slash"),
        pytest.param(lambda url: url.replace("//", "//reader:s3cret?pw@"),
                     id="password-with-question-mark"),
    ],
)  # fmt: skip
async def test_server_url_user_info_hidden(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_url: Callable[[str], str],
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", make_url(server.url), "--no-wait")
    stderr = capsys.readouterr().err
    assert code == 2
    assert server.requests == []
    assert "s3cret" not in stderr
    assert "Pass the base URL without user info" in stderr


async def test_server_url_user_info_example(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    url = server.url.replace("//", "//reader:s3cret-pw@")
    code = await run_submit(book, "--server", url, "--no-wait")
    stderr = capsys.readouterr().err
    assert code == 2
    assert f"such as {server.url}," in stderr


@pytest.mark.parametrize("suffix", ["/v1", "/v1/"])
async def test_server_url_api_version_stripped(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    suffix: str,
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url + suffix, "--no-wait")
    assert code == 0
    assert capsys.readouterr().out.strip() == JOB_ID
    assert server.requests == ["POST /v1/jobs"]


@pytest.mark.parametrize("book_id", ["", "  ", "\t"])
async def test_empty_book_id_rejected(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    book_id: str,
) -> None:
    server = await mock_server(completed_job_routes())
    book = write_book(tmp_path, "book.txt", "some words")
    code = await run_submit(book, "--server", server.url, "--book-id", book_id,
                            "--no-wait")  # fmt: skip
    stderr = capsys.readouterr().err
    assert code == 2
    assert server.requests == []
    assert "--book-id is empty or only white space" in stderr


# ---------------------------------------------------------------------------
# Time limits of each request, which apply with or without --timeout. The tests
# shorten them, so that a stalled server ends the run within seconds.


def stall_handler(
    server: Callable[[], MockServer], sent: bytes, length: int
) -> Handler:
    """Build a handler that sends ``sent`` of a ``length``-byte body, then stalls.

    ``server`` returns the stand-in server, which exists only after its handlers.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "application/json"
        response.content_length = length
        await response.prepare(request)
        await response.write(sent)
        await stall(server().release)
        return response

    return handler


def trickle_handler(
    server: Callable[[], MockServer],
    payload: dict[str, Any] | None = None,
    status: int = 200,
) -> Handler:
    """Build a handler that sends ``payload`` (a failed job's status by default)
    one byte each 0.05 s, after reading the request body.

    Each byte arrives well within the idle limit, so only the limit on the whole
    request ends it.
    """
    if payload is None:
        payload = {"status": "failed", "progress": 0}
    body = json.dumps(payload).encode()
    padding = b" " * int(STALL_S / 0.05)

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=status)
        response.content_type = "application/json"
        response.content_length = len(padding) + len(body)
        await response.prepare(request)
        try:
            for _ in padding:
                if server().release.is_set():
                    return response
                await response.write(b" ")
                await asyncio.sleep(0.05)
            await response.write(body)
        except ConnectionError:
            # The client has closed the connection.
            return response
        await response.write_eof()
        return response

    return handler


@pytest.mark.parametrize("kind", ["no-response", "trickle"])
async def test_stalled_status_request_times_out(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    server: MockServer

    async def stall_then_report_failure(request: web.Request) -> web.Response:
        await stall(server.release)
        return web.json_response({"status": "failed", "progress": 0})

    status = stall_then_report_failure
    if kind == "trickle":
        status = trickle_handler(lambda: server)
    server = await mock_server(
        {"POST /v1/jobs": accept_job, f"GET {STATUS_PATH}": status}
    )
    book = write_book(tmp_path, "book.txt", "some words")
    load_submit()
    monkeypatch.setattr(sys.modules["submit_polling"], "RECONNECT_GRACE_S", 0.2)
    code = await run_patched(monkeypatch, "submit_http", {"JSON_GET_TIMEOUT_S": 0.5},
                             book, "--server", server.url, "--poll-interval", "0.05",
                             "-o", str(tmp_path / "out.json"))  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 4
    assert f"GET {server.url}{STATUS_PATH} timed out" in error
    assert "no complete response within 0.5 s" in error
    assert f"job {JOB_ID} may still be running" in error


async def test_stalled_download_times_out(
    mock_server: MockFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server: MockServer
    routes = completed_job_routes()
    routes[f"GET {STATUS_PATH}/result"] = stall_handler(lambda: server, b"{", 100_000)
    server = await mock_server(routes)
    book = write_book(tmp_path, "book.txt", "some words")
    output = tmp_path / "out.json"
    code = await run_patched(monkeypatch, "submit_http", {"IDLE_TIMEOUT_S": 0.5},
                             book, "--server", server.url, "--poll-interval", "0.05",
                             "-o", str(output))  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 4
    assert f"GET {server.url}{STATUS_PATH}/result timed out" in error
    assert "no data from the server for 0.5 s" in error
    assert "curl -fo" in error
    assert not output.exists()
    assert not (tmp_path / "out.json.part").exists()


async def test_timeout_ends_stalled_download(
    mock_server: MockFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server: MockServer
    routes = completed_job_routes()
    routes[f"GET {STATUS_PATH}/result"] = stall_handler(lambda: server, b"{", 100_000)
    server = await mock_server(routes)
    book = write_book(tmp_path, "book.txt", "some words")
    output = tmp_path / "out.json"
    code = await run_submit(book, "--server", server.url, "--timeout", "2",
                            "--poll-interval", "0.05", "-o", str(output))  # fmt: skip
    error = error_line(capsys.readouterr().err)
    assert code == 4
    assert f"GET {server.url}{STATUS_PATH}/result timed out" in error
    assert "--timeout 2 s" in error
    assert not output.exists()
