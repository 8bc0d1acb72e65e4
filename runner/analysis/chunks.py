"""Cut paragraphs into parser-sized pieces and group them into chunks.

A piece is the unit the parser takes as one document: a whole paragraph, or part of
a paragraph longer than ``MAX_PIECE_CHARS``. A chunk is a run of whole pieces of
about ``CHUNK_TOKENS`` estimated tokens; the engine parses, writes and reports
progress once per chunk. ``CollapsedText`` gives the parser a copy of a piece
with every whitespace run made one space, and maps offsets back.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterator, Sequence

from runner.analysis.layout import Paragraph

# About 20,000 characters is some 4,000 tokens: small enough for the parser's
# memory and for progress to move, large enough that real paragraphs stay whole.
MAX_PIECE_CHARS = 20_000
CHUNK_TOKENS = 4_000

# Approximates spaCy's English tokenizer: words with inner apostrophes, and single
# punctuation characters. It runs over the whole book up front, so it must be cheap.
_TOKEN_ESTIMATE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_WHITESPACE_RUN = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*\s+")


@dataclasses.dataclass(frozen=True, slots=True)
class Piece:
    """A ``[start, end)`` span parsed as one document."""

    start: int
    end: int
    paragraph_id: int
    heading: bool
    estimated_tokens: int


def estimate_tokens(text: str, start: int = 0, end: int | None = None) -> int:
    """Estimate the number of tokens spaCy will find in ``text[start:end]``."""
    segment = text[start:end]
    return len(_TOKEN_ESTIMATE.findall(segment))


def make_pieces(
    text: str, paragraphs: Sequence[Paragraph], max_chars: int = MAX_PIECE_CHARS
) -> list[Piece]:
    """Return the pieces of all paragraphs, in text order."""
    pieces: list[Piece] = []
    for paragraph_id, paragraph in enumerate(paragraphs):
        for start, end in _split_span(text, paragraph.start, paragraph.end, max_chars):
            tokens = estimate_tokens(text, start, end)
            pieces.append(Piece(start, end, paragraph_id, paragraph.heading, tokens))
    return pieces


def _split_span(
    text: str, start: int, end: int, max_chars: int
) -> Iterator[tuple[int, int]]:
    """Split an over-long span at a line break, else a sentence end, else a space.

    NOTE: a cut inside a sentence also ends that sentence, because each piece is
    parsed as a document of its own.
    """
    while end - start > max_chars:
        cut = _cut_point(text, start, start + max_chars)
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        yield start, end


def _cut_point(text: str, start: int, limit: int) -> int:
    # Look for a boundary in the second half of the window so pieces stay large.
    floor = start + (limit - start) // 2
    newline = text.rfind("\n", floor, limit)
    if newline > floor:
        return newline
    last_sentence_end = None
    for match in _SENTENCE_END.finditer(text, floor, limit):
        last_sentence_end = match.end()
    if last_sentence_end is not None:
        return last_sentence_end
    space = max(text.rfind(" ", floor, limit), text.rfind("\t", floor, limit))
    return space if space > floor else limit


def plan_chunks(
    pieces: Sequence[Piece], target_tokens: int = CHUNK_TOKENS
) -> list[range]:
    """Group piece indices into consecutive chunks of about ``target_tokens``."""
    chunks: list[range] = []
    first = 0
    tokens = 0
    for index, piece in enumerate(pieces):
        tokens += piece.estimated_tokens
        if tokens >= target_tokens:
            chunks.append(range(first, index + 1))
            first = index + 1
            tokens = 0
    if first < len(pieces):
        chunks.append(range(first, len(pieces)))
    return chunks


class CollapsedText:
    """A span of text with each whitespace run other than one space made one space.

    The parser gets ``text``. ``to_source`` maps an index in it back to an offset in
    the full text, and ``to_collapsed`` maps a non-whitespace source offset in. The
    mapping is piecewise linear: ``_collapsed_starts[k]`` in ``text`` corresponds to
    ``_source_starts[k]`` in the source, up to the next breakpoint.
    """

    def __init__(self, source: str, start: int, end: int) -> None:
        parts: list[str] = []
        self._collapsed_starts = [0]
        self._source_starts = [start]
        collapsed_length = 0
        last = start
        for match in _WHITESPACE_RUN.finditer(source, start, end):
            if match.group() == " ":
                continue
            parts.append(source[last : match.start()])
            parts.append(" ")
            collapsed_length += match.start() - last + 1
            last = match.end()
            self._collapsed_starts.append(collapsed_length)
            self._source_starts.append(last)
        parts.append(source[last:end])
        self.text = "".join(parts)

    def to_source(self, index: int) -> int:
        """Return the source offset of ``index`` in the collapsed text."""
        k = bisect.bisect_right(self._collapsed_starts, index) - 1
        return self._source_starts[k] + index - self._collapsed_starts[k]

    def to_collapsed(self, offset: int) -> int:
        """Return the collapsed index of a non-whitespace source ``offset``."""
        k = bisect.bisect_right(self._source_starts, offset) - 1
        return self._collapsed_starts[k] + offset - self._source_starts[k]
