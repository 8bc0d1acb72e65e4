"""Find speech set off by a dash at the start of its paragraph, as Joyce does.

    — Away to bed! he said gruffly.
    — Thanks, old man, Finn answered at last. That will do.

A book is read this way only when at least ``MIN_DASH_PARAGRAPHS`` paragraphs
open with a dash (``—``, ``―`` or ``--``) and they outnumber the quotes found
from quotation marks, because elsewhere such a dash more often continues an
interrupted sentence than opens speech.

The speech runs from the dash to the end of its paragraph, except for a speech
tag: after a comma or sentence-final mark, a pronoun or a capitalised name
followed within two words by a speech verb ("he said gruffly", "Mr. Finn
answered") ends the quote. The tag runs to its sentence's end, and what follows
it in the paragraph is a second quote, which no mark opens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.analysis.layout import Paragraph
from runner.analysis.lexicon import speech_verb_lemma

MIN_DASH_PARAGRAPHS = 3

_OPENING_DASH = re.compile(r"(?:—|―|--)[ \t]*(?=[^\W_])")
_TAG_START = re.compile(r"(?<=[,.!?;:])\s+")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_TAG_PRONOUNS = frozenset({"he", "she", "i", "they", "we"})
# Words of a speech tag read at most: a name of up to two words ("Buck
# Mulligan", "Mr. Deasy") and the verb.
_MAX_TAG_WORDS = 3


def dash_paragraph_count(text: str, paragraphs: Sequence[Paragraph]) -> int:
    """Return how many of ``paragraphs`` open with a dash before a word."""
    return sum(
        1
        for paragraph in paragraphs
        if not paragraph.heading and _OPENING_DASH.match(text, paragraph.start)
    )


def dash_quote_spans(
    text: str, paragraphs: Sequence[Paragraph]
) -> list[tuple[int, int]]:
    """Return ``[start, end)`` spans of dash-opened speech, in text order."""
    spans = []
    for paragraph in paragraphs:
        if paragraph.heading:
            continue
        opening = _OPENING_DASH.match(text, paragraph.start)
        if opening is None:
            continue
        spans.extend(_speech_spans(text, paragraph.start, paragraph.end))
    return spans


def _speech_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    tag = _find_tag(text, start, end)
    if tag is None:
        return [(start, _rstrip(text, start, end))]
    tag_start, tag_end = tag
    spans = [(start, _rstrip(text, start, tag_start))]
    resume = tag_end
    while resume < end and text[resume].isspace():
        resume += 1
    if resume < end:
        spans.append((resume, _rstrip(text, resume, end)))
    return spans


def _find_tag(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Return the ``[start, end)`` of the first speech tag in the paragraph."""
    for gap in _TAG_START.finditer(text, start, end):
        words = text[gap.end() : end].split(None, _MAX_TAG_WORDS)
        verb = _tag_verb(words)
        if verb is not None:
            # Search from the verb, so that "Mr." ends no sentence.
            after_verb = text.index(words[verb], gap.end()) + len(words[verb]) - 1
            sentence_end = _SENTENCE_END.search(text, after_verb, end)
            tag_end = sentence_end.end() if sentence_end else end
            return gap.end(), tag_end
    return None


def _tag_verb(words: list[str]) -> int | None:
    """Return the verb's index in "he said", "Stephen said", "Buck Mulligan cried".

    Returns None when the words open no speech tag. A speaker word followed by
    a comma ("Tell me, Mulligan, Stephen said") is the person spoken to.
    """
    if len(words) < 2:
        return None
    first = words[0]
    titled = first[-1] == "." and first[:1].isupper() and len(first) <= 4  # "Mr."
    if not first[-1].isalpha() and not titled:
        return None
    if first.lower() not in _TAG_PRONOUNS and not first[:1].isupper():
        return None
    for index in range(1, min(len(words), _MAX_TAG_WORDS)):
        word = words[index]
        lemma = speech_verb_lemma(word.strip(",.;:!?"))
        if lemma is not None:
            # "Yes, I thought so." is still speech.
            return index if lemma != "think" else None
        if not word[:1].isupper() or not word[-1].isalpha():
            return None
    return None


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
