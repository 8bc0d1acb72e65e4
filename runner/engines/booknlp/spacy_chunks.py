"""BookNLP's spaCy step, run over chunks of whole paragraphs so progress can move.

BookNLP 1.0.8 parses the whole book as one spaCy ``Doc``. ``ChunkedParser``
parses chunks of about ``CHUNK_CHARS`` characters that end after a paragraph
break, joins the chunks with ``Doc.from_docs`` and hands the joined ``Doc`` to
BookNLP's own ``process_doc``. The joined text equals the input text, so token
offsets are the same as in a single parse; a sentence never spans two chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from spacy.tokens import Doc

# About 4,000 tokens of English prose: small enough that progress moves every
# second or so on a CPU, large enough that per-call overhead does not matter.
CHUNK_CHARS = 20_000

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def split_chunks(text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Split ``text`` into pieces of at most ``max_chars`` that join back to it.

    Each cut falls after the last paragraph break in the window, else after the
    last line break, else after the last space. A window without white space
    is cut at ``max_chars``, which splits one word into two tokens.
    """
    chunks = []
    start = 0
    while len(text) - start > max_chars:
        cut = _cut_point(text, start, start + max_chars)
        chunks.append(text[start:cut])
        start = cut
    if start < len(text):
        chunks.append(text[start:])
    return chunks


def _cut_point(text: str, start: int, limit: int) -> int:
    last_break = None
    for match in _PARAGRAPH_BREAK.finditer(text, start, limit):
        last_break = match
    if last_break is not None and last_break.end() > start:
        return last_break.end()
    for mark in ("\n", " "):
        position = text.rfind(mark, start, limit)
        if position > start:
            return position + 1
    return limit


class ChunkedParser:
    """Stands in for BookNLP's ``SpacyPipeline`` for one job.

    Args:
        booknlp_pipeline: the loaded model's ``SpacyPipeline``; its spaCy
            pipeline parses and its ``process_doc`` builds BookNLP's tokens.
        on_chunk: called after each chunk with the fraction of characters
            parsed and the number of spaCy tokens so far.
    """

    def __init__(
        self,
        booknlp_pipeline: Any,
        on_chunk: Callable[[float, int], None],
        chunk_chars: int = CHUNK_CHARS,
    ) -> None:
        self.booknlp_pipeline = booknlp_pipeline
        self.spacy_nlp = booknlp_pipeline.spacy_nlp
        self.on_chunk = on_chunk
        self.chunk_chars = chunk_chars
        self.tokens: list[Any] = []

    def tag(self, text: str) -> list[Any]:
        """Parse ``text`` and return BookNLP ``Token`` objects, as BookNLP's own does."""
        chunks = split_chunks(text, self.chunk_chars)
        docs = []
        parsed_chars = 0
        parsed_tokens = 0
        for chunk in chunks:
            doc = self.spacy_nlp(chunk)
            docs.append(doc)
            parsed_chars += len(chunk)
            parsed_tokens += len(doc)
            self.on_chunk(parsed_chars / len(text), parsed_tokens)
        # ensure_whitespace=False keeps the joined text equal to the input even
        # where a chunk had to be cut inside a word.
        joined = Doc.from_docs(docs, ensure_whitespace=False) if docs else self.spacy_nlp("")
        self.tokens = self.booknlp_pipeline.process_doc(joined)
        return self.tokens
