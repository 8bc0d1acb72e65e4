"""scripts/submit.py tells apart binary files, UTF-16 or UTF-32 and other text."""

from __future__ import annotations

import codecs
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service_process import ROOT, free_port

SCRIPT = ROOT / "scripts" / "submit.py"


def run_submit(book: Path) -> subprocess.CompletedProcess[str]:
    """Run submit.py on ``book``; it checks the file before it connects."""
    # Nothing listens on this loopback port, so a file that passed the check
    # would fail to connect instead of being sent anywhere.
    server = f"http://127.0.0.1:{free_port()}"
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(book), "--server", server, "--no-wait",
         "--timeout", "5"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _random_bytes(count: int) -> bytes:
    generator = random.Random(7)
    # No NUL, so that only the share of control bytes can tell it from text.
    return bytes(generator.randrange(1, 256) for _ in range(count))


NOT_TEXT = [
    pytest.param(b"Call me Ishmael.\x00 Some years ago", "a NUL byte at offset 16",
                 id="one-nul"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\xff\xfe\x90",
                 "is an ELF executable", id="elf"),
    pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00mimetypeapplication/epub+zip",
                 "is a ZIP archive", id="zip"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF document",
                 id="pdf"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a PNG image", id="png"),
    pytest.param(_random_bytes(4096), "control bytes in its first 4096 bytes",
                 id="control-bytes"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "words"), NOT_TEXT)
def test_binary_file_not_text(tmp_path: Path, data: bytes, words: str) -> None:
    book = tmp_path / "book.txt"
    book.write_bytes(data)
    done = run_submit(book)
    assert done.returncode == 2
    assert words in done.stderr
    # "is a PDF document, not a text file" or "does not look like a text file".
    assert "a text file" in done.stderr
    # The advice for text in another encoding would not help here.
    assert "UTF-16 or UTF-32 without" not in done.stderr
    assert "UTF-16LE" not in done.stderr
    assert "cp1252" not in done.stderr


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param("Call me Ishmael.".encode("utf-16-le"), "utf-16le", id="16le"),
        pytest.param("Call me Ishmael.".encode("utf-16-be"), "utf-16be", id="16be"),
        pytest.param("Зовите меня Измаил.".encode("utf-16-le"), "utf-16le",
                     id="16le-cyrillic"),
        pytest.param("Call me Ishmael.".encode("utf-32-le"), "utf-32le", id="32le"),
        pytest.param("Call me Ishmael.".encode("utf-32-be"), "utf-32be", id="32be"),
    ],
)  # fmt: skip
def test_unmarked_unicode_named(tmp_path: Path, data: bytes, encoding: str) -> None:
    book = tmp_path / "book.txt"
    book.write_bytes(data)
    done = run_submit(book)
    assert done.returncode == 2
    expected = f"looks like {encoding.upper()} text without a byte-order mark"
    assert expected in done.stderr
    assert f"iconv -f {encoding} -t utf-8" in done.stderr


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("Chapter 1\n\fChapter 2\r\n\tÉmile.\n".encode(), id="utf-8"),
        pytest.param(b"a\nb\nc\nd\ne\nf\n", id="one-letter-lines"),
        pytest.param(codecs.BOM_UTF16_LE + "Call me".encode("utf-16-le"),
                     id="utf-16-with-mark"),
    ],
)  # fmt: skip
def test_text_file_passes_check(tmp_path: Path, data: bytes) -> None:
    book = tmp_path / "book.txt"
    book.write_bytes(data)
    done = run_submit(book)
    # The check passed, so the script tried to reach the server.
    assert done.returncode != 0
    assert "text file" not in done.stderr
    assert "byte-order mark" not in done.stderr
    assert "127.0.0.1" in done.stderr
