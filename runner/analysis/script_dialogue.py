"""Find speech laid out as in a play, with a speaker cue in capitals.

    DUTCH SAILOR

    Grand snoozing to-night, maty; fat night for that.

    PIP (Sulky and sleepy)

    Don't know where it is.

or, with the cue opening the speech's own paragraph:

    HAMLET. To be, or not to be, that is the question.

Moby-Dick sets several chapters this way, and plays and some novels set whole
scenes so. Such speech has no quotation marks, so without these rules its "I"
would be the narrator's and its speaker unknown.

A cue is a run of at most ``MAX_CUE_WORDS`` words in capitals at the start
of a line ("1ST NANTUCKET SAILOR", "MRS. HIGGINS", "A BYSTANDER"). A stage
direction in brackets may follow it ("PIP (Sulky and sleepy)", "HIGGINS
[sharply] I have"). A speech on the same line follows a full stop or colon
("HAMLET. To be"), and a cue alone on its line speaks from the next line or
paragraph on. A chapter or scene heading ("CHAPTER 40", "SCENE I.") or a
notice ("NOTE:", "ARTICLE II:") is never a cue. The speech runs to the next
cue or heading (see ``_read_cues``). A paragraph wholly in brackets, or one
that opens with "Enter" or "Exit", is a stage direction, not speech.

Capitals alone also mark titles, headlines and datelines, so cues count only
in a run: at least ``MIN_RUN_CUES`` cues of at least two labels, one of which
comes more than once, each speech ending where the next cue starts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from runner.analysis.entities import NOM, PER, PROP, Mention
from runner.analysis.layout import Paragraph, is_numbered_heading, trim_span
from runner.analysis.lexicon import (
    HONORIFICS,
    PERSON_NOUNS,
    STAGE_DIRECTION_VERBS,
    honorific_gender,
    honorific_key,
)
from runner.analysis.speakers import QuoteTokens

MAX_CUE_WORDS = 6
MAX_SPEECH_PARAGRAPHS = 3
MIN_RUN_CUES = 3
# First words of headings and notices that look like cues: "SCENE I.",
# "ACT II.", "NOTE:", "ARTICLE II:".
_HEADING_WORDS = frozenset(
    {"act", "article", "book", "canto", "caution", "chapter", "clause",
     "contents", "epilogue", "finis", "important", "note", "part", "prologue",
     "scene", "section", "step", "volume", "warning"}
)
_ARTICLES = frozenset({"the", "a", "an"})
# Cues that name a group, whose speech has no one speaker.
_GROUP_CUES = frozenset(
    {"all", "both", "chorus", "crowd", "omnes", "others", "several"}
)

_WORD = re.compile(r"[^\W_]+")
_NON_SPACE = re.compile(r"\S+")
_CLOSING_BRACKET = {"(": ")", "[": "]"}


@dataclasses.dataclass(frozen=True, slots=True)
class ScriptSpeech:
    """A speech as ``[start, end)`` character spans of its cue's label and text."""

    label_start: int
    label_end: int
    start: int
    end: int


@dataclasses.dataclass(slots=True)
class _Cue:
    """A cue and its speech while the cues are read.

    ``own`` is the speech on the cue's own lines and ``after`` the paragraphs
    after them. ``ended_by_cue`` is True when the next cue ended the speech.
    """

    label: tuple[int, int]
    own: tuple[int, int] | None
    after: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    ended_by_cue: bool = False

    def speeches(self) -> list[ScriptSpeech]:
        """Return the speech, cut to one paragraph unless a cue ended it.

        Following paragraphs count only when the next cue ends them, so that
        narration after the last cue of a scene stays narration.
        """
        parts = ([self.own] if self.own is not None else []) + self.after
        if not self.ended_by_cue:
            parts = parts[:1]
        return [ScriptSpeech(*self.label, start, end) for start, end in parts]


def script_speeches(text: str, paragraphs: Sequence[Paragraph]) -> list[ScriptSpeech]:
    """Return the speeches of every run of cues in ``paragraphs``, in text order.

    A run goes on while each cue's speech ends where the next cue starts.
    """
    speeches: list[ScriptSpeech] = []
    run: list[list[ScriptSpeech]] = []
    for cue in _read_cues(text, paragraphs):
        cue_speeches = cue.speeches()
        if cue_speeches:
            run.append(cue_speeches)
        if not cue_speeches or not cue.ended_by_cue:
            speeches.extend(_accepted(text, run))
            run = []
    speeches.extend(_accepted(text, run))
    return speeches


def _accepted(text: str, run: list[list[ScriptSpeech]]) -> list[ScriptSpeech]:
    labels = {_label_key(text, cue_speeches[0]) for cue_speeches in run}
    # People in a scene speak more than once; headlines, datelines and
    # titles in capitals ("GREAT FIRE IN SOUTHWARK", "LONDON.") each come once.
    if len(run) < MIN_RUN_CUES or len(labels) < 2 or len(labels) == len(run):
        return []
    return [speech for cue_speeches in run for speech in cue_speeches]


def _label_key(text: str, speech: ScriptSpeech) -> str:
    return " ".join(_WORD.findall(text[speech.label_start : speech.label_end]))


def _read_cues(text: str, paragraphs: Sequence[Paragraph]) -> list[_Cue]:
    """Return every cue in text order, each with the speech that follows it.

    A cue's speech runs to the next cue line of its paragraph, or to the
    paragraph's end and on through at most ``MAX_SPEECH_PARAGRAPHS`` more
    paragraphs. A heading or a paragraph of narration too far on ends it.
    """
    cues: list[_Cue] = []
    open_cue: _Cue | None = None
    for paragraph in paragraphs:
        lines = _cue_lines(text, paragraph)
        if lines:
            if open_cue is not None:
                open_cue.ended_by_cue = True
            for number, (label, speech_start) in enumerate(lines):
                if number + 1 < len(lines):
                    speech_end = lines[number + 1][0][0]
                else:
                    speech_end = paragraph.end
                cue = _Cue(label, trim_span(text, speech_start, speech_end))
                cue.ended_by_cue = number + 1 < len(lines)
                cues.append(cue)
            open_cue = cues[-1]
            continue
        if _is_heading(text, paragraph):
            open_cue = None
        elif open_cue is not None and not _is_direction(text, paragraph):
            if len(open_cue.after) < MAX_SPEECH_PARAGRAPHS:
                open_cue.after.append((paragraph.start, paragraph.end))
            else:
                open_cue = None
    return cues


def _cue_lines(
    text: str, paragraph: Paragraph
) -> list[tuple[tuple[int, int], int]]:
    """Return ``(label span, speech start)`` of each cue line, if the first is one.

    A cue line is a label alone ("PIP (Sulky and sleepy)", "BARNARDO."), whose
    speech starts on the next line, or a label ended by a full stop or colon
    before the speech on the same line ("HAMLET. To be").
    """
    found = []
    line_start = paragraph.start
    while line_start < paragraph.end:
        line_end = text.find("\n", line_start, paragraph.end)
        if line_end < 0:
            line_end = paragraph.end
        cue = _cue_at(text, line_start, line_end)
        if cue is not None:
            found.append(cue)
        elif not found:
            return []
        line_start = line_end + 1
    return found


def _cue_at(
    text: str, line_start: int, line_end: int
) -> tuple[tuple[int, int], int] | None:
    """Return ``(label span, speech start)`` when the line opens with a cue.

    The label is the run of words in capitals at the line's start. A stage
    direction in brackets may follow it ("PIP (Sulky and sleepy)", "HIGGINS
    [sharply] I have"), and otherwise a speech on the same line must come
    after a full stop or colon ("MRS. HIGGINS. Henry!"). A label alone on its
    line speaks from the next line on. The words are read one by one, so a
    long line costs time in proportion to its length.
    """
    if is_numbered_heading(text[line_start:line_end]):
        return None
    label_start = label_end = -1
    words = 0
    ends_with_stop = False
    for match in _NON_SPACE.finditer(text, line_start, line_end):
        word = match.group()
        if word[0] in _CLOSING_BRACKET and words:
            close = text.find(_CLOSING_BRACKET[word[0]], match.start(), line_end)
            if close < 0:
                return None
            speech_start = close + 1
            break
        if not _is_label_word(word) and not (word == "A" and not words):
            if not words or not ends_with_stop:
                return None
            speech_start = match.start()
            break
        words += 1
        if words > MAX_CUE_WORDS:
            return None
        if label_start < 0:
            label_start = match.start()
        label_end = match.end() - (len(word) - len(word.rstrip(".:")))
        ends_with_stop = word[-1] in ".:"
    else:
        if not words:
            return None
        speech_start = line_end
    label = text[label_start:label_end]
    if not _is_label(label):
        return None
    return (label_start, label_end), speech_start


def _is_label_word(word: str) -> bool:
    """Return True for a word of a cue: capitals, an ordinal ("3D"), an initial."""
    bare = word.rstrip(".:")
    letters = [char for char in bare if char.isalpha()]
    if any(char.islower() for char in letters):
        return False
    has_digit = any(char.isdigit() for char in bare)
    return len(letters) >= 2 or has_digit or (len(letters) == 1 and word.endswith("."))


def _is_heading(text: str, paragraph: Paragraph) -> bool:
    line = text[paragraph.start : paragraph.end]
    words = line.split(maxsplit=1)
    return is_numbered_heading(line) or (
        bool(words) and words[0].strip(".:").lower() in _HEADING_WORDS
    )


def _is_label(label: str) -> bool:
    """Return True for a speaker's label: words in capitals, with two letters."""
    words = label.split()
    letters = [char for char in label if char.isalpha()]
    return (
        0 < len(words) <= MAX_CUE_WORDS
        and len(letters) >= 2
        and all(not char.islower() for char in letters)
        and words[0].strip(".:").lower() not in _HEADING_WORDS
    )


def _is_direction(text: str, paragraph: Paragraph) -> bool:
    """Return True for a stage direction: in brackets, or "Enter ..." and the like."""
    line = text[paragraph.start : paragraph.end]
    if line[:1] in "([" and line[-1:] in ")]":
        return True
    first_word = line.split(maxsplit=1)[0].strip(".,:;_[]()")
    return first_word[:1].isupper() and first_word.lower() in STAGE_DIRECTION_VERBS


def cue_mentions(
    mentions: list[Mention],
    quotes: Sequence[QuoteTokens],
    word_at: Callable[[int], str],
) -> list[Mention]:
    """Return ``mentions`` with one PER mention spanning each quote's cue.

    The mention replaces any other with the cue's exact span, so that the
    whole label speaks. Mentions inside the label ("AZORE", typed GPE, in
    "AZORE SAILOR") stay as nested ones. A leading article is left out ("THE
    MOTHER"). A label of one person noun or title ("NURSE", "KING") is a noun
    phrase, since a lone title is no name. Mentions in a stage direction
    between the cue and the speech ("PIP (Sulky and sleepy)") are dropped,
    because the parser reads them as the speaker's apposition. A cue that
    names a group ("ALL", "FLASK AND STUBB") gets no mention.
    """
    dropped: set[int] = set()
    added: dict[tuple[int, int], Mention] = {}
    for quote in quotes:
        if quote.cue is None:
            continue
        first, last = quote.cue
        dropped.update(range(last + 1, quote.start_token))
        while first < last and word_at(first).lower() in _ARTICLES:
            first += 1
        words = tuple(word_at(token) for token in range(first, last + 1))
        lowered = {word.lower() for word in words}
        if lowered & _GROUP_CUES or "and" in lowered:
            continue
        added[(first, last)] = _cue_mention(first, last, words)
    remaining = [
        mention
        for mention in mentions
        if mention.start not in dropped
        and mention.end not in dropped
        and (mention.start, mention.end) not in added
    ]
    remaining.extend(added.values())
    remaining.sort(key=lambda mention: (mention.start, mention.end))
    return remaining


def _cue_mention(first: int, last: int, words: tuple[str, ...]) -> Mention:
    if len(words) == 1:
        key = honorific_key(words[0])
        if key in PERSON_NOUNS or key in HONORIFICS:
            gender = PERSON_NOUNS.get(key) or honorific_gender(key)
            return Mention(first, last, PER, NOM, last, key=key, gender=gender)
    return Mention(first, last, PER, PROP, last, words=words)
