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
from runner.analysis.lexicon import MAX_TAG_WORDS, speech_tag_verb

MIN_DASH_PARAGRAPHS = 3

_OPENING_DASH = re.compile(r"(?:—|―|--)[ \t]*(?=[^\W_])")
_TAG_START = re.compile(r"(?<=[,.!?;:])\s+")
_TAG_END = re.compile(r"[,.!?;:](?=\s|$)")
_SPEECH_END = re.compile(r"[.!?…'’\"”]\s*$")
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


# NOTE: the words alone decide, not the parse, so a name and a speech verb
# inside the speech ("— Yes, Mother said so.") are taken for a tag.
def _find_tag(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Return the ``[start, end)`` of the first speech tag in the paragraph.

    A tag ends at the first comma or stop at most ``_MAX_AFTER_VERB`` words
    after its verb. A longer clause is narration or speech, not a tag.
    """
    for gap in _TAG_START.finditer(text, start, end):
        words = text[gap.end() : end].split(None, MAX_TAG_WORDS)
        verb = speech_tag_verb(words)
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


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
