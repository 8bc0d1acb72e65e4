"""Sentence-start decisions around quotation marks and headings.

spaCy's dependency parser keeps any ``is_sent_start`` value set before it runs and
chooses the rest itself. ``plan_sentence_starts`` returns those preset values for
one document: True (a sentence starts here), False (it must not) or None (leave
it to the parser). The rules:

- A heading is one sentence.
- The word after an opening mark never starts a sentence, so a sentence that
  begins a quote begins with the mark. The mark itself starts a sentence after
  sentence-final punctuation, and never after a comma, semicolon or dash.
- A closing mark never starts a sentence. Nor does the token after it when the
  quote ended with a comma or dash, or when a lower-case word follows
  (``"Who left the gate open?" demanded Mr. Okafor.`` is one sentence).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

_SENTENCE_FINAL = frozenset({".", "!", "?", "…", "...", "!!", "?!", "!?"})
_CLAUSE_JOINERS = frozenset({",", ";", "(", "["})
# Hyphens and the figure, en, em, horizontal-bar, two-em and three-em dashes. A
# token made only of these ("-", "--", "—", "――") joins clauses too.
_DASH_CHARS = frozenset("-‒–—―⸺⸻")


def plan_sentence_starts(
    words: Sequence[str],
    open_marks: Collection[int],
    close_marks: Collection[int],
    heading: bool = False,
) -> list[bool | None]:
    """Return a preset ``is_sent_start`` value for each token of one document.

    Args:
        words: the token texts, whitespace tokens included.
        open_marks: indices of tokens that are opening quotation marks.
        close_marks: indices of tokens that are closing quotation marks.
        heading: the document is a heading.
    """
    count = len(words)
    plan: list[bool | None] = [None] * count
    if count == 0:
        return plan
    if heading:
        plan[0] = True
        plan[1:] = [False] * (count - 1)
        return plan
    for i in close_marks:
        _plan_after_close(words, i, open_marks, plan)
    for i in open_marks:
        _plan_open(words, i, close_marks, plan)
    plan[0] = True
    return plan


def _plan_after_close(
    words: Sequence[str], i: int, open_marks: Collection[int], plan: list[bool | None]
) -> None:
    plan[i] = False
    following = _next_word(words, i)
    if following is None or following in open_marks:
        return
    last_inside = _previous_word(words, i)
    next_text = words[following]
    ended_with_joiner = last_inside is not None and _joins_clauses(words[last_inside])
    if ended_with_joiner or next_text[:1].islower() or not _is_wordlike(next_text):
        plan[following] = False


def _plan_open(
    words: Sequence[str], i: int, close_marks: Collection[int], plan: list[bool | None]
) -> None:
    inside = _next_word(words, i)
    if inside is not None:
        plan[inside] = False
    before = _previous_word(words, i)
    if before is None:
        plan[i] = True
        return
    previous_text = words[before]
    if previous_text in _SENTENCE_FINAL:
        plan[i] = True
    elif before in close_marks:
        ended = _previous_word(words, before)
        if ended is not None and words[ended] in _SENTENCE_FINAL:
            plan[i] = True
    elif _joins_clauses(previous_text):
        plan[i] = False


def _next_word(words: Sequence[str], i: int) -> int | None:
    for j in range(i + 1, len(words)):
        if not words[j].isspace():
            return j
    return None


def _previous_word(words: Sequence[str], i: int) -> int | None:
    for j in range(i - 1, -1, -1):
        if not words[j].isspace():
            return j
    return None


def _joins_clauses(text: str) -> bool:
    return text in _CLAUSE_JOINERS or (bool(text) and set(text) <= _DASH_CHARS)


def _is_wordlike(text: str) -> bool:
    return any(char.isalnum() for char in text)
