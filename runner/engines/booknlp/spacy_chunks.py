"""BookNLP's spaCy step, run over chunks of whole paragraphs so progress can move.

BookNLP 1.0.8 parses the whole book as one spaCy ``Doc``. ``ChunkedParser``
parses chunks of about ``CHUNK_CHARS`` characters that end after a paragraph
break, joins the chunks with ``Doc.from_docs`` and hands the joined ``Doc`` to
BookNLP's own ``process_doc``. The joined text equals the input text, so token
offsets are the same as in a single parse; a sentence never spans two chunks.

All chunks are tokenised before any is parsed, so the number of tokens BookNLP
will keep (spaCy's tokens less the white-space ones, which ``process_doc``
drops) is known exactly before the slow part begins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from spacy.attrs import IS_SPACE
from spacy.tokens import Doc

# About 4,000 tokens of English prose: small enough that progress moves every
# second or so on a CPU, large enough that per-call overhead does not matter.
CHUNK_CHARS = 20_000
# Share of the parse stage spent tokenising, before the tagger and parser run.
# NOTE: an estimate, because spaCy's tokenizer is a small part of the time
# that en_core_web_sm takes.
TOKENIZE_SHARE = 0.05

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
        on_progress: called after each chunk is tokenised and after each is
            parsed. Its arguments are the fraction of the parse stage done,
            the number of BookNLP tokens parsed so far, and the number BookNLP
            will keep in all (0 until every chunk is tokenised).
    """

    def __init__(
        self,
        booknlp_pipeline: Any,
        on_progress: Callable[[float, int, int], None],
        chunk_chars: int = CHUNK_CHARS,
    ) -> None:
        self.booknlp_pipeline = booknlp_pipeline
        self.spacy_nlp = booknlp_pipeline.spacy_nlp
        self.on_progress = on_progress
        self.chunk_chars = chunk_chars
        self.tokens: list[Any] = []

    def tag(self, text: str) -> list[Any]:
        """Parse ``text`` and return BookNLP ``Token`` objects, as BookNLP's own does."""
        chunks = split_chunks(text, self.chunk_chars)
        docs = []
        done_chars = 0
        for chunk in chunks:
            docs.append(self.spacy_nlp.make_doc(chunk))
            done_chars += len(chunk)
            self.on_progress(TOKENIZE_SHARE * done_chars / len(text), 0, 0)
        word_counts = [_count_words(doc) for doc in docs]
        total_words = sum(word_counts)
        done_chars = 0
        done_words = 0
        for index, (chunk, words) in enumerate(zip(chunks, word_counts)):
            # A Doc passed to the pipeline skips tokenisation; the rest is as
            # in spacy_nlp(chunk).
            docs[index] = self.spacy_nlp(docs[index])
            done_chars += len(chunk)
            done_words += words
            fraction = TOKENIZE_SHARE + (1 - TOKENIZE_SHARE) * done_chars / len(text)
            self.on_progress(fraction, done_words, total_words)
        # ensure_whitespace=False keeps the joined text equal to the input even
        # where a chunk had to be cut inside a word.
        joined = Doc.from_docs(docs, ensure_whitespace=False) if docs else self.spacy_nlp("")
        self.tokens = self.booknlp_pipeline.process_doc(joined)
        return self.tokens


def _count_words(doc: Doc) -> int:
    """Return the number of tokens in ``doc`` that are not white space."""
    if len(doc) == 0:
        return 0
    return len(doc) - int(doc.to_array(IS_SPACE).sum())
