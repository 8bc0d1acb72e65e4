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

A cue is a paragraph of one line whose words are all in capitals, at most
``MAX_CUE_WORDS`` of them. A stage direction in brackets and a full stop or
colon may follow. The same capitals may also open a speech's paragraph,
ended by a full stop or colon on the same line or by the line's end. A
chapter or scene heading ("CHAPTER 40", "SCENE I.") is never a cue. The
speech is what follows the cue, up to the next cue or heading (see
``_find_cues``). A paragraph wholly in brackets, or one that opens with
"Enter" or "Exit", is a stage direction, not speech.

Capitals alone also mark titles, so cues count only in a run: at least
``MIN_RUN_CUES`` cues, with at least two different labels, each speech ending
where the next cue starts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from runner.analysis.entities import PER, PROP, Mention
from runner.analysis.layout import Paragraph, is_numbered_heading, trim_span
from runner.analysis.speakers import QuoteTokens

MAX_CUE_WORDS = 6
MAX_SPEECH_PARAGRAPHS = 3
MIN_RUN_CUES = 3
# Words that open a stage direction written as a paragraph of its own.
_DIRECTION_WORDS = frozenset({"Enter", "Re-enter", "Exit", "Exeunt", "Manet", "Manent"})
# First words of headings that look like cues: "SCENE I.", "ACT II.".
_HEADING_WORDS = frozenset(
    {"act", "book", "canto", "chapter", "contents", "epilogue", "finis", "part",
     "prologue", "scene", "volume"}
)
# Cues that name a group, whose speech has no one speaker.
_GROUP_CUES = frozenset(
    {"all", "both", "chorus", "crowd", "omnes", "others", "several"}
)

# A cue line: capitals (with digits for "1ST", apostrophes, hyphens and
# full stops for "MR."), then an optional direction in brackets and an
# optional full stop or colon. The letters are checked in ``_is_label``.
_CUE_LINE = re.compile(
    r"(?P<label>[^\W_][\w'’.\- ]*?)[ \t]*(?:\((?P<direction>[^()\n]*)\))?"
    r"[ \t]*[.:]?[ \t]*$"
)
# A cue at the start of a speech paragraph: "HAMLET. To be".
_INLINE_CUE = re.compile(r"(?P<label>[^\W_][\w'’\- ]*?)[.:][ \t]+(?=\S)")
_WORD = re.compile(r"[^\W_]+")


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

    ``own`` is the speech on the cue's own lines, ``after`` the paragraphs
    after them, and ``ended_by_cue`` tells whether the next cue ended it.
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
    if len(run) < MIN_RUN_CUES or len(labels) < 2:
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
    line = text[line_start:line_end]
    if is_numbered_heading(line):
        return None
    match = _CUE_LINE.match(line)
    if match is not None and _is_label(match.group("label")):
        label = (line_start + match.start("label"), line_start + match.end("label"))
        return label, line_end
    match = _INLINE_CUE.match(text, line_start, line_end)
    if match is not None and _is_label(match.group("label")):
        return (match.start("label"), match.end("label")), match.end()
    return None


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
    return first_word in _DIRECTION_WORDS


def cue_mentions(
    mentions: list[Mention],
    quotes: Sequence[QuoteTokens],
    word_at: Callable[[int], str],
) -> list[Mention]:
    """Return ``mentions`` with one PER name spanning each quote's cue.

    The mentions the tagger found inside a cue ("AZORE" typed GPE, or PER, in
    "AZORE SAILOR") give way to that name, so that the whole label speaks.
    Those in a stage direction between the cue and the speech ("PIP (Sulky
    and sleepy)") are dropped, because the parser reads them as the
    speaker's apposition. A cue that names a group ("ALL", "FLASK AND
    STUBB") gets no name.
    """
    dropped: set[int] = set()
    added = []
    for quote in quotes:
        if quote.cue is None:
            continue
        first, last = quote.cue
        dropped.update(range(first, quote.start_token))
        words = tuple(word_at(token) for token in range(first, last + 1))
        lowered = {word.lower() for word in words}
        if lowered & _GROUP_CUES or "and" in lowered:
            continue
        added.append(Mention(first, last, PER, PROP, last, words=words))
    remaining = [
        mention
        for mention in mentions
        if mention.start not in dropped and mention.end not in dropped
    ]
    spans = {(mention.start, mention.end) for mention in remaining}
    remaining.extend(m for m in added if (m.start, m.end) not in spans)
    remaining.sort(key=lambda mention: (mention.start, mention.end))
    return remaining
