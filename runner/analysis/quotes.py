"""Find quoted speech from its quotation marks, paragraph by paragraph.

The document's primary style is double unless unambiguous opening single marks
(``‘`` and a straight ``'`` before a capital) outnumber the opening double marks,
as in British editions. Marks of the other style are nested quotes and stay
inside the quote that contains them, and so do curly double marks inside such
a nested single quote (a third level: “She said ‘he cried “no” twice’ then.”).

Double marks come in three families, and a document uses the one it has most
of, so that the others stay ordinary characters: English ``"`` and ``“ ”``,
guillemets (``«Oui»`` or ``« Oui »`` in French, ``»Ja«`` in German, told apart
by which mark opens words), and the German ``„Ja“``. An arrow such as "File »
Save" is no guillemet quote: that family needs both of its marks in similar
numbers.

Rules, in the order a reader would apply them:

- Curly marks and guillemets carry their direction, unless their neighbours
  show that they were typed the wrong way round. In the German family ``„``
  always opens and ``“`` always closes. A straight mark gets its direction from
  its neighbours (after a space or dash it opens, before a space or punctuation
  it closes) or, when both sides are letters or both are spaces, from whether a
  quote is open.
- An apostrophe never opens or closes a quote: a mark between letters
  (``it’s``), before a lower-case elision (``’twas``, or ``‘t`` set with an
  opening mark), before a digit (the elided year in ``'49`` or ``’90s``), or
  after a letter and before a lower-case word (``girls’ path``, ``goin’ to``),
  unless it closes a quoted term (``go ‘meandering’ about``), or after a
  letter when punctuation and another mark follow (``'I'm goin',' he said``). This test matters
  only in single-quote style.
- Dashes are never quotation marks, except in a book that sets its speech off
  with a dash at the start of the paragraph (``dash_dialogue``).
- Speech laid out as in a play, after a speaker's cue in capitals ("DUTCH
  SAILOR"), is a quote that no mark opens (``script_dialogue``).
- A short closed quote right after a word of the same line (the "Quartier
  Francais", marked ‘poison’, as he called it "form") names a term, a title or
  a word, not speech, and is left out, unless it is a whole sentence ("Help
  me!") or a speech verb comes right before or after it.
- A quote still open at the end of its paragraph continues into the next
  paragraph when that paragraph starts with an opening mark (the convention for a
  speech of several paragraphs). Otherwise it is unclosed and ends at the end of
  the first of its lines that ends a sentence, or at its paragraph's end, so that
  it does not run on into the narration of the following lines.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence

from runner.analysis.dash_dialogue import (
    MIN_DASH_PARAGRAPHS,
    dash_paragraph_count,
    dash_quote_spans,
)
from runner.analysis.layout import Paragraph
from runner.analysis.lexicon import speech_tag_verb, speech_verb_lemma
from runner.analysis.script_dialogue import script_speeches

logger = logging.getLogger(__name__)

DOUBLE = "double"
SINGLE = "single"

_OPEN = "open"
_CLOSE = "close"

_DOUBLE_MARKS = re.compile('["“”„«»]')
# The double-mark families (see the module docstring), each with its marks.
ENGLISH = "english"
GUILLEMETS = "guillemets"
LOW_HIGH = "low-high"
_FAMILY_MARKS = {
    # „ opens here too, so that a cited German „Wort“ pairs up and stays whole.
    ENGLISH: re.compile('["“”„]'),
    GUILLEMETS: re.compile("[«»]"),
    LOW_HIGH: re.compile("[„“”]"),
}
# Guillemets form the family only when the rarer of « and » is at least this
# share of the commoner one: quotes use both, arrows and bullets only one.
_GUILLEMET_BALANCE = 0.5
_VOTING_MARKS = re.compile('["“„«»]')
_OTHER_FAMILY_MARGIN = 2
_SINGLE_MARKS = re.compile("['‘’]")
# Characters after which a straight mark opens, and before which it closes.
_OPENS_AFTER = frozenset('([{—–-"“‘')
_CLOSES_BEFORE = frozenset('.,;:!?)]}—–-…"”’')
_SENTENCE_FINAL = frozenset(".!?…")
# The speech tag between the parts of an interrupted quote ("replied
# Charlotte, ", "said my aunt, as she threaded her needle,\n") ends like this.
_TAG_END = re.compile(r"(?:[,;:]|--|[—–])\s*$")
_MAX_SPEECH_TAG = 200
# Quotes of up to this many words after a word can be terms or titles rather
# than speech. LitBank's annotators leave such quotes out.
MAX_TERM_WORDS = 4
# Dialect elisions that a speech tag can precede ("said Sam, 'cause he knew"):
# dropped h's and clipped words, compared in lower case.
_DIALECT_ELISIONS = frozenset(
    "ad alf appen ave bout cause cept cos ead eard ee er ere fore im nuff ome ouse "
    "ow un urt".split()
)
# Elisions written with a capital, which look like an opening single quote.
_CAPITALISED_ELISIONS = frozenset({"tis", "twas", "twill", "twould", "twere", "em"})
# Elisions as written in lower case after an apostrophe ("for ’t", "’em").
_LOWER_ELISIONS = frozenset({"t", *_CAPITALISED_ELISIONS, *_DIALECT_ELISIONS})
# An elided year or decade: ' or ’ before a digit ('49, ’90s), or ‘ before exactly
# two digits, as word processors set "'49" when they take the mark for an opening
# one. Three or more digits after ‘ ("‘1984 was cold,’") still open a quote.
_ELIDED_NUMBER = re.compile(r"['’][0-9]|‘[0-9]{2}(?![0-9])")


@dataclasses.dataclass(frozen=True, slots=True)
class Quote:
    """A top-level quote as a ``[start, end)`` character span.

    Attributes:
        start: offset of the opening mark, or of the first character of speech
            that no mark opens (``dash_dialogue``, ``script_dialogue``).
        end: offset just after the closing mark, or after the last character of
            an unclosed quote.
        open_marks: offsets of the opening mark and of the mark that reopens the
            quote at the start of each further paragraph it spans.
        close_mark: offset of the closing mark, or None when the quote is unclosed.
        cue: ``[start, end)`` of the speaker's label before speech laid out as
            in a play ("DUTCH SAILOR"), else None.
    """

    start: int
    end: int
    open_marks: tuple[int, ...]
    close_mark: int | None
    cue: tuple[int, int] | None = None


def choose_style(text: str, start: int = 0, end: int | None = None) -> str:
    """Return ``SINGLE`` when opening single marks outnumber double ones.

    Returns ``DOUBLE`` otherwise, also for a text without quotation marks.
    """
    end = len(text) if end is None else end
    double_votes = 0
    for match in _DOUBLE_MARKS.finditer(text, start, end):
        i = match.start()
        if text[i] in "“„" or (text[i] in '"«»' and _context(text, i, start, end)[0]):
            double_votes += 1
    single_votes = 0
    for match in _SINGLE_MARKS.finditer(text, start, end):
        i = match.start()
        if _ELIDED_NUMBER.match(text, i, end):
            continue
        if text[i] == "‘" or (text[i] == "'" and _straight_single_opens(text, i, end)):
            single_votes += 1
    style = SINGLE if single_votes > double_votes else DOUBLE
    logger.debug(
        "quote style %s (double %d, single %d)", style, double_votes, single_votes
    )
    return style


def choose_family(text: str, start: int = 0, end: int | None = None) -> str:
    """Return the double-mark family the range's opening marks choose.

    Guillemets or German marks win when they open more than
    ``_OTHER_FAMILY_MARGIN`` times as many quotes as English marks do. Any
    other text gives ``ENGLISH``, and so does a text without quotation marks.
    """
    end = len(text) if end is None else end
    low = text.count("„", start, end)
    left, right = text.count("«", start, end), text.count("»", start, end)
    balanced = min(left, right) >= _GUILLEMET_BALANCE * max(left, right)
    opener = _guillemet_opener(text, start, end) if balanced and left else ""
    guillemets = {"«": left, "»": right}.get(opener, 0)
    english = _english_openings(text, start, end, opener)
    votes = {GUILLEMETS: guillemets, LOW_HIGH: low}
    # Another family must outvote English clearly: a few cited German words
    # or navigation arrows must not take the quotes of an English book.
    other = max(votes, key=lambda family: votes[family])
    if votes[other] > _OTHER_FAMILY_MARGIN * english:
        return other
    return ENGLISH


def _english_openings(text: str, start: int, end: int, opener: str) -> int:
    """Count English marks placed to open a quote, outside the other families.

    A “ inside « » is nested (French), and the “ that follows an open „ closes
    it (German), so neither counts. ``opener`` is the document's opening
    guillemet, or "" when guillemets are not quotes.
    """
    closer = {"«": "»", "»": "«"}.get(opener, "")
    inside_guillemets = 0
    low_open = False
    count = 0
    for match in _VOTING_MARKS.finditer(text, start, end):
        i, char = match.start(), match.group()
        if opener and char == opener:
            inside_guillemets += 1
        elif closer and char == closer:
            inside_guillemets = max(inside_guillemets - 1, 0)
        elif char == "„":
            low_open = True
        elif char == "“" and low_open:
            low_open = False
        elif char in '"“' and not inside_guillemets:
            count += _context(text, i, start, end)[0]
    return count


def _guillemet_opener(text: str, start: int, end: int) -> str:
    """Return "«" (French) or "»" (German): the mark more often before a word."""
    votes = {"«": 0, "»": 0}
    for match in re.finditer("[«»]", text[start:end]):
        i = start + match.start()
        before = text[i - 1] if i > start else " "
        after = text[i + 1 : i + 3].lstrip(" \u00a0\u202f")[:1]
        if before.isspace() and after.isalnum():
            votes[text[i]] += 1
    return "«" if votes["«"] >= votes["»"] else "»"


def _straight_single_opens(text: str, i: int, end: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    if not (before.isspace() or before in _OPENS_AFTER):
        return False
    if i + 1 >= end or not text[i + 1].isupper():
        return False
    return _word_after(text, i, end).lower() not in _CAPITALISED_ELISIONS


def _word_after(text: str, i: int, end: int) -> str:
    j = i + 1
    while j < end and text[j].isalpha():
        j += 1
    return text[i + 1 : j]


def _context(text: str, i: int, lo: int, hi: int) -> tuple[bool, bool]:
    """Return whether the mark at ``i`` is placed like an opening or a closing mark."""
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < hi else " "
    opens = before.isspace() or before in _OPENS_AFTER
    closes = after.isspace() or after in _CLOSES_BEFORE
    return opens, closes


def find_quotes(
    text: str, paragraphs: Sequence[Paragraph], style: str | None = None
) -> list[Quote]:
    """Return the top-level quotes of ``paragraphs`` in text order.

    ``style`` is ``DOUBLE`` or ``SINGLE``; None chooses it with ``choose_style``
    over the paragraphs' whole range.
    """
    if not paragraphs:
        return []
    start, end = paragraphs[0].start, paragraphs[-1].end
    if style is None:
        style = choose_style(text, start, end)
    family = choose_family(text, start, end)
    opener = _guillemet_opener(text, start, end) if family == GUILLEMETS else ""
    scanner = _QuoteScanner(text, style, family, opener)
    for index, paragraph in enumerate(paragraphs):
        following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
        scanner.scan_paragraph(paragraph, following)
    marked = scanner.quotes
    unmarked = []
    for speech in script_speeches(text, paragraphs):
        cue = (speech.label_start, speech.label_end)
        unmarked.append(Quote(speech.start, speech.end, (), None, cue))
    dashes = dash_paragraph_count(text, paragraphs)
    if dashes >= MIN_DASH_PARAGRAPHS and dashes > len(marked):
        unmarked.extend(
            Quote(start, end, (start,), None)
            for start, end in dash_quote_spans(text, paragraphs)
        )
    if not unmarked:
        return marked
    found = list(marked)
    for quote in unmarked:
        if not any(q.start < quote.end and quote.start < q.end for q in found):
            found.append(quote)
    return sorted(found, key=lambda quote: quote.start)


class _QuoteScanner:
    """The state machine behind ``find_quotes``: one open quote at a time."""

    def __init__(self, text: str, style: str, family: str, opener: str) -> None:
        self.text = text
        self.style = style
        self.marks = _FAMILY_MARKS[family] if style == DOUBLE else _SINGLE_MARKS
        self.family = family
        # Marks that carry their direction; guillemets in the document's order.
        closer = {"«": "»", "»": "«"}.get(opener, "")
        self.curly_open = "“‘" + opener
        self.curly_close = "”’" + closer
        self.quotes: list[Quote] = []
        self._open_marks: list[int] = []
        self._continuing = False
        self._paragraph_start = 0
        # Curly double quotes open inside a single quote inside the open quote
        # (“He said ‘she cried “no” twice’ then,”), whose closing marks are
        # not the open quote's.
        self._nested = 0

    def scan_paragraph(self, paragraph: Paragraph, following: Paragraph | None) -> None:
        if paragraph.heading:
            return
        lo, hi = paragraph.start, paragraph.end
        self._paragraph_start = lo
        for match in self.marks.finditer(self.text, lo, hi):
            self._take_mark(match.start(), lo, hi)
        self._continuing = False
        if not self._open_marks:
            return
        if following is not None and self._reopens(following):
            self._continuing = True
        else:
            self._finish_unclosed(hi)

    def _take_mark(self, i: int, lo: int, hi: int) -> None:
        kind = self._classify(i, lo, hi)
        if kind == _OPEN:
            if self._open_marks and self._continuing and i == lo:
                self._open_marks.append(i)
                self._continuing = False
                return
            if self._opens_third_level(i, lo, hi):
                self._nested += 1
                return
            if self._open_marks:
                self._finish_unclosed(i)
            self._open_marks = [i]
        elif kind == _CLOSE and self._nested:
            self._nested -= 1
        elif kind == _CLOSE and self._open_marks:
            self._add(self._open_marks[0], i + 1, i)

    def _opens_third_level(self, i: int, lo: int, hi: int) -> bool:
        """Return True for a curly “ inside a single quote inside the open quote.

        Typesetters alternate the marks, so a third level of quotation takes
        double marks again. Elsewhere a “ inside an open quote more often
        means that the quote before it was never closed.
        """
        if self.text[i] != "“" or not self._open_marks or self.style != DOUBLE:
            return False
        opened = 0
        for j in range(self._open_marks[-1] + 1, i):
            char = self.text[j]
            if char == "‘" and _context(self.text, j, lo, hi)[0]:
                opened += 1
            elif char == "’" and opened and not _is_apostrophe(self.text, j, lo, hi):
                opened -= 1
        return opened > 0

    def _classify(self, i: int, lo: int, hi: int) -> str | None:
        if self.style == SINGLE and _ELIDED_NUMBER.match(self.text, i, hi):
            return None
        if self.style == SINGLE and _is_misturned_elision(self.text, i, hi):
            return None
        if self.style == SINGLE and self._opens_with_elision(i, lo, hi):
            return _OPEN
        if self.style == SINGLE and self._closes_term(i, lo, hi):
            return _CLOSE
        if self.style == SINGLE and self._resumes_interrupted(i, lo, hi):
            return _OPEN
        if self.style == SINGLE and _is_apostrophe(self.text, i, lo, hi):
            return None
        char = self.text[i]
        opens, closes = _context(self.text, i, lo, hi)
        is_open = bool(self._open_marks)
        if char == "„":
            return _OPEN
        if self.family == LOW_HIGH and self.style == DOUBLE:
            return _CLOSE
        if char in self.curly_open:
            # A curly opening mark where only a closing one fits was typed wrongly.
            return _CLOSE if is_open and closes and not opens else _OPEN
        if char in self.curly_close:
            return _OPEN if not is_open and opens and not closes else _CLOSE
        if opens and not closes:
            return _OPEN
        if closes and not opens:
            return _CLOSE
        return _CLOSE if is_open else _OPEN

    def _opens_with_elision(self, i: int, lo: int, hi: int) -> bool:
        """Return True for a straight mark that opens speech with "'Tis" or "'Twas".

        The mark before a capitalised elision is its apostrophe, unless no quote
        is open, the mark starts a sentence or the paragraph, and the next
        mark in the paragraph closes ("'Tis a cold morning,' said Tom").
        """
        if self.text[i] != "'" or self._open_marks:
            return False
        word = _word_after(self.text, i, hi)
        if not word[:1].isupper() or word.lower() not in _CAPITALISED_ELISIONS:
            return False
        before = i - 1
        while before >= lo and self.text[before] in " \t\u00a0":
            before -= 1
        if before >= lo and self.text[before] not in _SENTENCE_FINAL:
            return False
        # The next mark must close, so that narration ("'Twas night. He said,
        # 'Go.'") does not run into the speech after it.
        position = self.text.find("'", i + 1 + len(word), hi)
        while position >= 0:
            before = self.text[position - 1]
            after = self.text[position + 1] if position + 1 < hi else " "
            if before.isspace():
                return False  # an opening mark comes first
            if not after.isalpha():
                return True
            position = self.text.find("'", position + 1, hi)  # "don't"
        return False

    def _closes_term(self, i: int, lo: int, hi: int) -> bool:
        """Return True for a mark that closes a quoted term ("go ‘meandering’ about").

        After a letter and before a lower-case word the mark looks like the
        apostrophe of "girls’ path". Here a quote opened right after a word of
        the same line, at most ``MAX_TERM_WORDS`` words before, so the mark
        closes it, and ``_is_term`` then leaves the term out. An opening after a
        speech verb ("said ‘I saw the girls’ path.’") is speech, and its mark
        stays an apostrophe.
        """
        if self.text[i] not in "’'" or len(self._open_marks) != 1:
            return False
        start = self._open_marks[0]
        content = self.text[start + 1 : i]
        words = content.split()
        if not 0 < len(words) <= MAX_TERM_WORDS or not content[-1:].isalpha():
            return False
        if any(char in _SENTENCE_FINAL for char in content):
            return False
        after = self.text[i + 1] if i + 1 < hi else " "
        if after.isalpha():
            return False
        before = start - 1
        while before >= lo and self.text[before] in " \t\u00a0":
            before -= 1
        if before < lo or not self.text[before].isalpha():
            return False
        word_start = before
        while word_start > lo and self.text[word_start - 1].isalpha():
            word_start -= 1
        return speech_verb_lemma(self.text[word_start : before + 1]) is None

    def _resumes_interrupted(self, i: int, lo: int, hi: int) -> bool:
        """Return True for a straight mark that resumes a quote after its speech tag.

        In "'Then,' replied Charlotte, 'he asked me.'" the second mark comes
        before a lower-case word, like the elision in "'twas", but it follows a
        quote closed in the same paragraph and a short speech tag that ends
        with a comma, colon, semicolon or dash. A known elision ("'cause",
        "'im") after the tag, or no closing mark later in the paragraph,
        leaves it an apostrophe.
        """
        if self.text[i] != "'" or self._open_marks or not self.quotes:
            return False
        last = self.quotes[-1]
        if last.close_mark is None or last.close_mark < lo:
            return False
        word = _word_after(self.text, i, hi).lower()
        if word in _CAPITALISED_ELISIONS or word in _DIALECT_ELISIONS:
            return False
        tag = self.text[last.end : i]
        if len(tag) > _MAX_SPEECH_TAG or not _TAG_END.search(tag):
            return False
        return _closing_mark_follows(self.text, i + 1, hi)

    def _reopens(self, paragraph: Paragraph) -> bool:
        if paragraph.heading:
            return False
        first = self.text[paragraph.start]
        if not self.marks.match(first):
            return False
        return self._classify(paragraph.start, paragraph.start, paragraph.end) == _OPEN

    def _finish_unclosed(self, limit: int) -> None:
        start = self._open_marks[0]
        end = _unclosed_end(self.text, self._open_marks[-1], limit)
        self._add(start, end, None)

    def _add(self, start: int, end: int, close_mark: int | None) -> None:
        open_marks = tuple(self._open_marks)
        self._open_marks = []
        self._continuing = False
        self._nested = 0
        content = self.text[start:end]
        if not any(char.isalnum() for char in content):
            return
        lo = self._paragraph_start
        if close_mark is not None and _is_term(self.text, start, end, lo):
            return
        self.quotes.append(Quote(start, end, open_marks, close_mark))


def _is_term(text: str, start: int, end: int, lo: int) -> bool:
    """Return True for a short quote that follows a word on its line.

    Speech is kept: a quote after a speech verb (he said "Come here"), a whole
    sentence (a capital to a final stop: "Help me!"), and a quote followed by
    a speech tag ("Perhaps," she said).
    """
    content = text[start + 1 : end - 1].strip()
    if len(content.split()) > MAX_TERM_WORDS:
        return False
    if content[:1].isupper() and content.rstrip("'’\"”")[-1:] in ("!", "?", "."):
        return False
    before = start - 1
    while before >= lo and text[before] in " \t\u00a0":
        before -= 1
    if before < lo or not text[before].isalnum():
        return False
    word_start = before
    while word_start > lo and text[word_start - 1].isalpha():
        word_start -= 1
    if speech_verb_lemma(text[word_start : before + 1]) is not None:
        return False
    # "The word "love" says it all" has a speech verb after it, but no speaker.
    return speech_tag_verb(text[end : end + 60].split()) is None


def _closing_mark_follows(text: str, start: int, hi: int) -> bool:
    """Return True when a straight mark after a word ends a quote in ``[start, hi)``."""
    position = text.find("'", start, hi)
    while position >= 0:
        after = text[position + 1] if position + 1 < hi else " "
        if not text[position - 1].isspace() and not after.isalpha():
            return True
        position = text.find("'", position + 1, hi)
    return False


def _is_apostrophe(text: str, i: int, lo: int, hi: int) -> bool:
    """Return True for a single mark used as an apostrophe, not as a quote mark."""
    char = text[i]
    if char == "‘":
        return False
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < hi else " "
    if before.isalpha() and after.isalpha():
        return True
    if before.isalpha() and after in ",;:.!?" and text[i + 2 : i + 3] == char:
        return True  # "'I'm goin',' he said": the next mark closes the quote
    if (before.isspace() or before in _OPENS_AFTER) and after.isalpha():
        word = _word_after(text, i, hi)
        return after.islower() or word.lower() in _CAPITALISED_ELISIONS
    if before.isalpha() and after.isspace():
        j = i + 1
        while j < hi and text[j].isspace():
            j += 1
        return j < hi and text[j].islower()
    return False


def _is_misturned_elision(text: str, i: int, hi: int) -> bool:
    """Return True for an opening mark set for an elision's apostrophe ("for ‘t").

    Some editions print the apostrophe of "’t" or "’em" as an opening mark.
    Speech rarely starts with such a lower-case elision, so the mark is read
    as its apostrophe.
    """
    if text[i] != "‘":
        return False
    word = _word_after(text, i, hi)
    if word not in _LOWER_ELISIONS:
        return False
    after = i + 1 + len(word)
    return after >= hi or not text[after].isalpha()


def _unclosed_end(text: str, search_from: int, limit: int) -> int:
    """Return where an unclosed quote ends: its first sentence-final line end.

    Falls back to ``limit`` (the paragraph end or the next opening mark), with
    trailing whitespace removed.
    """
    position = search_from
    while True:
        newline = text.find("\n", position, limit)
        if newline < 0:
            return _rstrip(text, search_from, limit)
        line_end = _rstrip(text, search_from, newline)
        if line_end > search_from and text[line_end - 1] in _SENTENCE_FINAL:
            return line_end
        position = newline + 1


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
