"""Reading of the book file, with its encoding taken from a byte-order mark."""

from __future__ import annotations

import codecs
import shlex
from collections import Counter
from pathlib import Path
from typing import NamedTuple, Optional

from submit_errors import CliError

# Byte-order marks and the charset that the book is sent with when the file
# starts with one. The UTF-32 LE mark starts with the UTF-16 LE mark, so the
# UTF-32 marks come first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# File signatures of common formats that are not plain text, with what to do.
BINARY_SIGNATURES = (
    (b"\x7fELF", "an ELF executable or library", "give the book's text file instead"),
    (b"PK\x03\x04", "a ZIP archive (EPUB and DOCX files are ZIP archives too)",
     "unzip it and give the text file inside, or export the book as plain text"),
    (b"PK\x05\x06", "an empty ZIP archive", "give the book's text file instead"),
    (b"%PDF-", "a PDF document",
     "extract its text first, for example with pdftotext, and give that file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "give the book's text file instead"),
    (b"\x1f\x8b", "gzip-compressed",
     "decompress it first, for example with gunzip, and give that file"),
)  # fmt: skip
# Bytes at the start of the file that are checked for the patterns of binary
# data and of UTF-16 or UTF-32 text.
SAMPLE_BYTES = 64 * 1024
# Control bytes other than tab, line feed, vertical tab, form feed and carriage
# return. Text has almost none. In compressed or random data they are 27 of
# the 256 byte values, so about 10 % of the bytes.
CONTROL_BYTES = frozenset(range(0x09)) | frozenset(range(0x0E, 0x20)) | {0x7F}
# Share of control bytes above which a file counts as binary. Text with a few
# stray control characters stays far below it.
MAX_CONTROL_SHARE = 0.05


class Book(NamedTuple):
    """The bytes of a book file and the charset that the server decodes them with."""

    data: bytes
    charset: str


def read_book(path: Path) -> Book:
    """Read and check the book, taking its encoding from a byte-order mark.

    The bytes are sent unchanged, so a UTF-16 or UTF-32 file goes with its mark,
    which the server's decoder consumes. The server also drops a UTF-8 mark.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CliError(f"cannot read {path}: {err.strerror or err}") from None
    if not data:
        raise CliError(f"{path} is empty; give a file that contains the book's text")
    charset = detect_charset(data)
    if charset == "utf-8":
        check_looks_like_text(path, data)
    name = charset.upper()
    try:
        data.decode(charset)
    except UnicodeDecodeError as err:
        if charset != "utf-8":
            raise CliError(
                f"{path} starts with a {name} byte-order mark but is not valid "
                f"{name} ({err.reason} at byte offset {err.start}); check that the "
                "file is complete, or convert it to UTF-8"
            ) from None
        converted = shlex.quote(f"{path.stem}.utf8.txt")
        raise CliError(
            f"{path} is not valid UTF-8 (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); convert it to UTF-8 first with iconv, naming its "
            "encoding, e.g. for Windows-1252 (Western European) text: "
            f"iconv -f cp1252 -t utf-8 {shlex.quote(str(path))} > {converted}"
        ) from None
    return Book(data, charset)


def check_looks_like_text(path: Path, data: bytes) -> None:
    """Raise CliError when ``data``, which has no byte-order mark, is not UTF-8 text.

    The advice depends on what the bytes look like: a known binary format, UTF-16
    or UTF-32 without a byte-order mark, or other data with NUL or control bytes.
    """
    for signature, kind, next_step in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise CliError(
                f"{path} is {kind}, not a text file (it starts with the bytes "
                f"{signature!r}); {next_step}"
            )
    sample = data[:SAMPLE_BYTES]
    encoding = guess_unicode_without_mark(sample)
    if encoding is not None:
        converted = shlex.quote(f"{path.stem}.utf8.txt")
        raise CliError(
            f"{path} looks like {encoding.upper()} text without a byte-order mark, "
            "because its NUL and control bytes repeat at a fixed distance; convert "
            f"it to UTF-8 first: iconv -f {encoding} -t utf-8 "
            f"{shlex.quote(str(path))} > {converted}"
        )
    nul = data.find(b"\x00")
    controls = sum(1 for byte in sample if byte in CONTROL_BYTES)
    if nul >= 0:
        found = f"a NUL byte at offset {nul}"
    elif controls > MAX_CONTROL_SHARE * len(sample):
        found = f"{controls} control bytes in its first {len(sample)} bytes"
    else:
        return
    raise CliError(
        f"{path} does not look like a text file: it contains {found}, which plain "
        "text does not. Give the book as a plain text file (UTF-8, or UTF-16 with "
        "a byte-order mark). If the file is the book's text, remove those bytes "
        "first"
    )


def guess_unicode_without_mark(sample: bytes) -> Optional[str]:
    """Return ``utf-16le``, ``utf-16be``, ``utf-32le`` or ``utf-32be``, or None.

    Text in these encodings has a pattern in the high bytes of its characters.
    In UTF-32 the two highest bytes of each 4 are NUL (for every character up
    to U+FFFF). In UTF-16 one byte of each 2 is mostly the same control byte:
    NUL for Latin script, 0x03 for Greek, 0x04 for Cyrillic and so on.
    """
    if len(sample) < 4:
        return None
    quads = [sample[lane::4] for lane in range(4)]
    if _mostly(quads[2], 0, 0.9) and _mostly(quads[3], 0, 0.9):
        if not _mostly(quads[0], 0, 0.5):
            return "utf-32le"
    if _mostly(quads[0], 0, 0.9) and _mostly(quads[1], 0, 0.9):
        if not _mostly(quads[3], 0, 0.5):
            return "utf-32be"
    even, odd = sample[0::2], sample[1::2]
    for high, low, encoding in ((odd, even, "utf-16le"), (even, odd, "utf-16be")):
        value, count = Counter(high).most_common(1)[0]
        # CONTROL_BYTES leaves out tab, line feed and the like, because a text
        # of one-letter lines has a line feed at every second byte.
        if value not in CONTROL_BYTES or count < len(high) / 2:
            continue
        if not _mostly(low, value, 0.1):
            return encoding
    return None


def _mostly(data: bytes, value: int, share: float) -> bool:
    """Return whether ``value`` makes up at least ``share`` of ``data``."""
    return bool(data) and data.count(value) >= share * len(data)


def detect_charset(data: bytes) -> str:
    """Return the charset named by the byte-order mark of ``data``, else utf-8."""
    for mark, charset in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return charset
    return "utf-8"
