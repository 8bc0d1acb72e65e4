"""Reading of the book file, with its encoding taken from a byte-order mark."""

from __future__ import annotations

import codecs
import shlex
from pathlib import Path
from typing import NamedTuple

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
    if charset == "utf-8" and b"\x00" in data:
        # Mostly ASCII text in UTF-16 or UTF-32 without a byte-order mark is
        # valid UTF-8 with a NUL byte after each character.
        converted = shlex.quote(f"{path.stem}.utf8.txt")
        raise CliError(
            f"{path} contains NUL bytes (the first at offset {data.index(0)}), so "
            "it is probably UTF-16 or UTF-32 without a byte-order mark; convert it "
            "to UTF-8 first, e.g. for little-endian UTF-16: "
            f"iconv -f utf-16le -t utf-8 {shlex.quote(str(path))} > {converted}"
        )
    return Book(data, charset)


def detect_charset(data: bytes) -> str:
    """Return the charset named by the byte-order mark of ``data``, else utf-8."""
    for mark, charset in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return charset
    return "utf-8"
