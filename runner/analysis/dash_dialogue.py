"""Find speech set off by a dash at the start of its paragraph, as Joyce does.

    — Away to bed! he said gruffly.
    — Thanks, old man, Finn answered at last. That will do.

A book is read this way only when at least ``MIN_DASH_PARAGRAPHS`` paragraphs
open with a dash (``—``, ``―`` or ``--``) and end like speech, and they
outnumber the quotes found from quotation marks. Elsewhere such a dash more
often continues an interrupted sentence, or opens an item of a list.

The speech runs from the dash to the end of its paragraph, except for a speech
tag: after a comma or sentence-final mark, a pronoun or a capitalised name
followed within two words by a speech verb ("he said gruffly", "Mr. Finn
answered"), or a speech verb before its speaker ("said Buck Mulligan"), ends
the quote. The tag runs to its next comma or stop, and what follows it in the
paragraph is a second quote, which no mark opens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.analysis.layout import Paragraph
from runner.analysis.lexicon import speech_verb_lemma

MIN_DASH_PARAGRAPHS = 3

_OPENING_DASH = re.compile(r"(?:—|―|--)[ \t]*(?=[^\W_])")
_TAG_START = re.compile(r"(?<=[,.!?;:])\s+")
_TAG_END = re.compile(r"[,.!?;:](?=\s|$)")
_SPEECH_END = re.compile(r"[.!?…'’\"”]\s*$")
_TAG_PRONOUNS = frozenset({"he", "she", "i", "they", "we"})
# Words that can open the speaker after an inverted verb ("said the old man").
_SPEAKER_OPENERS = _TAG_PRONOUNS | {"the", "a", "an", "his", "her", "their", "my"}
# Words of a speech tag read at most: a name of up to two words ("Buck
# Mulligan", "Mr. Deasy") and the verb.
_MAX_TAG_WORDS = 3
# Words after the verb up to the tag's comma or stop ("he said at last.").
_MAX_AFTER_VERB = 3


def dash_paragraph_count(text: str, paragraphs: Sequence[Paragraph]) -> int:
    """Return how many of ``paragraphs`` open with a dash and end like speech.

    Speech ends with a stop or a quotation mark; a list or a table of
    contents ("-- Chapter One: The Arrival") usually does not.
    """
    return sum(
        1
        for paragraph in paragraphs
        if not paragraph.heading
        and _OPENING_DASH.match(text, paragraph.start)
        and _SPEECH_END.search(text, paragraph.start, paragraph.end)
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
    """Return the ``[start, end)`` of the first speech tag in the paragraph.

    A tag ends at the first comma or stop at most ``_MAX_AFTER_VERB`` words
    after its verb. A longer clause is narration or speech, not a tag.
    """
    for gap in _TAG_START.finditer(text, start, end):
        words = text[gap.end() : end].split(None, _MAX_TAG_WORDS)
        verb = _tag_verb(words)
        if verb is None:
            continue
        # Search from the verb, so that "Mr." ends no tag.
        after_verb = text.index(words[verb], gap.end()) + len(words[verb]) - 1
        closing = _TAG_END.search(text, after_verb, end)
        stop = closing.start() if closing else end
        if len(text[after_verb + 1 : stop].split()) > _MAX_AFTER_VERB:
            continue
        return gap.end(), closing.end() if closing else end
    return None


# NOTE: the words alone decide, not the parse, so a name and a speech verb
# inside the speech ("— Yes, Mother said so.") are taken for a tag.
def _tag_verb(words: list[str]) -> int | None:
    """Return the verb's index in "he said", "Buck Mulligan cried", "asked Stephen".

    Returns None when the words open no speech tag. A speaker word followed by
    a comma ("Tell me, Mulligan, Stephen said") is the person spoken to.
    """
    if len(words) < 2:
        return None
    if _tag_lemma(words[0]) is not None and _can_speak(words[1]):
        return 0  # "said Buck Mulligan", "cried the old man", "said he"
    first = words[0]
    titled = first[-1] == "." and first[:1].isupper() and len(first) <= 4  # "Mr."
    if not first[-1].isalpha() and not titled:
        return None
    if first.lower() not in _TAG_PRONOUNS and not first[:1].isupper():
        return None
    for index in range(1, min(len(words), _MAX_TAG_WORDS)):
        word = words[index]
        if _tag_lemma(word) is not None:
            return index
        if not word[:1].isupper() or not word[-1].isalpha():
            return None
    return None


def _tag_lemma(word: str) -> str | None:
    """Return the lemma of a speech verb that can tag speech, or None.

    "I thought so" and "he told me nothing" are speech, not tags.
    """
    lemma = speech_verb_lemma(word.strip(",.;:!?"))
    return None if lemma in (None, "think", "tell") else lemma


def _can_speak(word: str) -> bool:
    return word.strip(",.;:!?").lower() in _SPEAKER_OPENERS or word[:1].isupper()


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
