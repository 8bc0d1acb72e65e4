"""Text layout: line endings, Project Gutenberg boilerplate, paragraphs and headings.

Offsets index the submitted text: the file decoded from UTF-8, with a leading
byte-order mark (U+FEFF) kept as character 0. ``normalize_text`` turns it, and
any BOM outside a word, into a space. ``normalize_text`` returns a string
of the same length, so an offset found in the normalized text is also an offset
into the submitted one.

Line breaks are LF, CRLF, CR, the line separator U+2028 and the vertical tab,
which ``normalize_text`` turns into LF. The paragraph separator U+2029 and the
form feed stay in the text, and the layout reads each as a line break followed by
a blank line.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata

logger = logging.getLogger(__name__)

BYTE_ORDER_MARK = "\ufeff"
# A run of BOMs; only one between two letters or digits is kept.
_BOM_RUN = re.compile("\ufeff+")
# NOTE: NEL (U+0085) is no line break here. In UTF-8 text it is more often a
# Windows-1252 ellipsis decoded as Latin-1 than a newline.
_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\v": "\n"})
_PARAGRAPH_BREAKS = "\u2029\f"
_BREAK = re.compile(f"[\n{_PARAGRAPH_BREAKS}]")

# Above this many non-blank lines per blank-line-separated block, blank lines do
# not mark paragraphs, so each line break does. Prose hard-wrapped at about 70
# columns averages well under 20 lines per paragraph.
MAX_LINES_PER_BLOCK = 20

# When more than this share of paragraphs would be all-caps "titles", the text is
# set in capitals and the all-caps rule would mark every paragraph as a heading.
MAX_ALL_CAPS_SHARE = 0.5

# A line starts after LF or a paragraph break and ends before one of them.
_LINE_START = rf"(?:^|(?<=[{_PARAGRAPH_BREAKS}]))"
_LINE_END = rf"(?=[\n{_PARAGRAPH_BREAKS}]|\Z)"
_IN_LINE = rf"[^\n{_PARAGRAPH_BREAKS}]"
_START_MARKER = re.compile(
    rf"{_LINE_START}[ \t]*\*{{3}}[ \t]*START OF\b{_IN_LINE}*\*{{3}}[ \t]*{_LINE_END}",
    re.MULTILINE | re.IGNORECASE,
)
_END_MARKER = re.compile(
    rf"{_LINE_START}[ \t]*\*{{3}}[ \t]*END OF\b{_IN_LINE}*\*{{3}}[ \t]*{_LINE_END}",
    re.MULTILINE | re.IGNORECASE,
)
_END_OF_EBOOK_LINE = re.compile(
    rf"{_LINE_START}[ \t]*End of (?:the )?Project Gutenberg\b{_IN_LINE}*{_LINE_END}",
    re.MULTILINE | re.IGNORECASE,
)
# Texts released before about 2000 have no START and END markers: their legal
# header ends with a line such as "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN
# ETEXTS*Ver.04.29.93*END*", and an "End of the Project Gutenberg Etext" line
# follows the book.
_OLD_HEADER_END = re.compile(
    rf"{_LINE_START}{_IN_LINE}*\*END\*?[ \t]*THE SMALL PRINT!{_IN_LINE}*{_LINE_END}",
    re.MULTILINE | re.IGNORECASE,
)
# Some old releases print that notice after the book, after their "End of the
# Project Gutenberg" line. Without that line, the notice is a header when it
# lies in the first half of the text.
OLD_HEADER_SHARE = 0.5
# The only text allowed between the "End of the Project Gutenberg EBook" line and
# the END marker when that line is cut as well.
_TRAILER_GAP = re.compile(r"[\s.*]*")

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    "fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
    "fifty|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last"
)
_KEYWORD_HEADING = re.compile(
    r"^(?:CHAPTER|Chapter|BOOK|Book|PART|Part|VOLUME|Volume|STAVE|Stave|"
    r"SECTION|Section|CANTO|Canto|LETTER|Letter)\s+"
    rf"(?:[IVXLCDM]+|[ivxlcdm]+|\d+|(?i:{_NUMBER_WORDS})(?:[- ](?i:{_NUMBER_WORDS}))?)"
    r"\b(?P<rest>.*)$"
)
_BARE_NUMBER_HEADING = re.compile(r"^(?:[IVXLCDM]+|\d{1,3})\.?$")
# Function words that may stay lower case in a title ("The Return of the King").
_TITLE_SMALL_WORDS = frozenset(
    {"a", "an", "the", "of", "and", "in", "on", "at", "to", "for", "by", "with", "or"}
)
_QUOTE_CHARS = frozenset('"“”„‘’«»')


@dataclasses.dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph as a ``[start, end)`` span with no surrounding whitespace."""

    start: int
    end: int
    heading: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class AnalysedSpan:
    """The part of the text that is analysed, and whether boilerplate was cut."""

    start: int
    end: int
    boilerplate_removed: bool


def normalize_text(raw: str) -> str:
    """Blank byte-order marks and turn every line break into LF, keeping the length.

    ``\\r\\n`` becomes ``" \\n"``, and a lone ``\\r``, a line separator (U+2028)
    or a vertical tab becomes ``"\\n"``. Later steps then find one kind of line
    break, and offsets stay those of ``raw``. Paragraph separators (U+2029) and
    form feeds stay, because one character cannot hold both line breaks of the
    blank line they stand for. ``split_paragraphs`` reads them as that. A BOM
    outside a word comes from files joined with ``cat``, each starting with
    one, and becomes a space: left in, it glued itself to the next word
    ("\ufeff"You") and hid the opening quote mark. Inside a word it stays an
    invisible character.
    """
    text = _BOM_RUN.sub(lambda match: _blank_outside_word(raw, match), raw)
    return text.replace("\r\n", " \n").translate(_LINE_BREAKS)


def _blank_outside_word(text: str, match: re.Match[str]) -> str:
    before = text[match.start() - 1] if match.start() > 0 else " "
    after = text[match.end()] if match.end() < len(text) else " "
    if before.isalnum() and after.isalnum():
        return match.group()
    return " " * len(match.group())


def find_analysed_span(text: str) -> AnalysedSpan:
    """Return the span between Project Gutenberg's START and END marker lines.

    Without a START marker the span begins at 0; without an END marker it runs to
    the end. When an END marker comes before the START marker, the whole text is
    the span. When the markers enclose only white space, the span is that white
    space and ``boilerplate_removed`` is True, so the caller can report that
    there is nothing to analyse. The "End of the Project Gutenberg EBook" line
    that often precedes the END marker is cut as well. A text of an old release
    without START marker begins after its "*END*THE SMALL PRINT!" line and ends
    before its END marker or its last "End of the Project Gutenberg" line. When
    that notice follows an "End of the Project Gutenberg" line, the text ends
    before that line instead.
    """
    start, end = 0, len(text)
    start_match = _START_MARKER.search(text)
    old_header = None if start_match else _OLD_HEADER_END.search(text)
    if old_header is not None:
        trailer = _END_OF_EBOOK_LINE.search(text)
        if trailer is not None and trailer.start() < old_header.start():
            logger.debug("old Project Gutenberg notice after the book")
            return AnalysedSpan(0, trailer.start(), True)
        if trailer is not None or old_header.start() < OLD_HEADER_SHARE * len(text):
            return _old_release_span(text, old_header.end())
    if start_match is not None:
        if _END_MARKER.search(text, 0, start_match.start()) is not None:
            # The book may lie between the two markers, so drop neither side.
            logger.debug("END marker before the START marker; analysing all text")
            return AnalysedSpan(0, len(text), False)
        start = start_match.end()
    end_match = _END_MARKER.search(text, start)
    if end_match is not None:
        end = end_match.start()
        trailer = _last_match(_END_OF_EBOOK_LINE, text, start, end)
        if trailer is not None and _TRAILER_GAP.fullmatch(text, trailer.end(), end):
            end = trailer.start()
    removed = start_match is not None or end_match is not None
    if removed:
        logger.debug("boilerplate markers found; analysing %d..%d", start, end)
    return AnalysedSpan(start, end, removed)


def _old_release_span(text: str, start: int) -> AnalysedSpan:
    """Return the span of a text of an old release, after its legal header.

    It ends at an END marker line, or else at the last "End of the Project
    Gutenberg" line.
    """
    end = len(text)
    end_match = _END_MARKER.search(text, start)
    if end_match is not None:
        end = end_match.start()
    trailer = _last_match(_END_OF_EBOOK_LINE, text, start, end)
    if trailer is not None and (
        end_match is None or _TRAILER_GAP.fullmatch(text, trailer.end(), end)
    ):
        end = trailer.start()
    logger.debug("old Project Gutenberg header found; analysing %d..%d", start, end)
    return AnalysedSpan(start, end, True)


def _last_match(
    pattern: re.Pattern[str], text: str, start: int, end: int
) -> re.Match[str] | None:
    last = None
    for match in pattern.finditer(text, start, end):
        last = match
    return last


def split_paragraphs(text: str, start: int, end: int) -> list[Paragraph]:
    """Split ``text[start:end]`` into paragraphs and mark the headings.

    Blank lines separate paragraphs, and so does a paragraph separator (U+2029) or
    a form feed, each read as a line break and a blank line. A text with (almost)
    no blank lines is one block of several lines, or has more than
    ``MAX_LINES_PER_BLOCK`` lines per block on average. In such a text each line
    is a paragraph, unless it was visibly wrapped (see ``_join_wrapped_lines``). A
    heading that opens a block, such as ``CHAPTER I`` directly followed by text,
    becomes a paragraph of its own.
    """
    lines = _line_spans(text, start, end)
    blocks = _blocks(text, lines)
    nonblank = sum(len(block) for block in blocks)
    line_mode = nonblank > 1 and (
        len(blocks) == 1 or nonblank > MAX_LINES_PER_BLOCK * len(blocks)
    )
    if line_mode:
        blocks = _join_wrapped_lines(text, [line for block in blocks for line in block])
    paragraphs: list[Paragraph] = []
    for block in blocks:
        paragraphs.extend(_block_paragraphs(text, block))
    paragraphs = _drop_all_caps_headings_if_common(text, paragraphs)
    logger.debug(
        "%d paragraphs from %d lines (%s mode)",
        len(paragraphs),
        nonblank,
        "line" if line_mode else "blank-line",
    )
    return paragraphs


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Return the ``[start, end)`` span of each line, without its line break.

    A paragraph break adds an empty line after the line it ends.
    """
    spans = []
    position = start
    for match in _BREAK.finditer(text, start, end):
        spans.append((position, match.start()))
        if match.group() != "\n":
            spans.append((match.start(), match.start()))
        position = match.end()
    if position < end:
        spans.append((position, end))
    return spans


def _blocks(text: str, lines: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Group consecutive non-blank lines into blocks, trimming each line.

    A line of only white space and invisible format characters (U+200B, a
    soft hyphen) is blank: it shows as an empty line.
    """
    blocks: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for line_start, line_end in lines:
        trimmed = trim_span(text, line_start, line_end)
        if trimmed is not None and _only_format_characters(text, *trimmed):
            trimmed = None
        if trimmed is None:
            if current:
                blocks.append(current)
            current = []
        else:
            current.append(trimmed)
    if current:
        blocks.append(current)
    return blocks


def _only_format_characters(text: str, start: int, end: int) -> bool:
    if text[start].isascii():
        return False
    return all(
        char.isspace() or unicodedata.category(char) == "Cf" for char in text[start:end]
    )


def trim_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Return ``[start, end)`` without the whitespace at its ends, or None if blank."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _join_wrapped_lines(
    text: str, lines: list[tuple[int, int]]
) -> list[list[tuple[int, int]]]:
    """Make each line a block, but keep a line that visibly continues the last.

    A line continues the previous one when the previous line ends inside a
    sentence (a letter, digit, comma, semicolon or hyphen) and the line starts with
    a lower-case letter, which is how a hard-wrapped paragraph looks.
    """
    blocks: list[list[tuple[int, int]]] = []
    for line in lines:
        if blocks and _continues(text, blocks[-1][-1], line):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _continues(text: str, previous: tuple[int, int], line: tuple[int, int]) -> bool:
    last_char = text[previous[1] - 1]
    first_char = text[line[0]]
    ends_open = last_char.isalnum() or last_char in ",;-"
    return ends_open and first_char.islower()


def _block_paragraphs(text: str, block: list[tuple[int, int]]) -> list[Paragraph]:
    """Turn a block into paragraphs, peeling off heading lines at its top.

    A block opens with headings when its first line is numbered (``CHAPTER I``);
    all-caps title lines right after it (``THE LETTER``) are headings too. A block
    made only of up to three heading-like lines is one heading paragraph.
    """
    if len(block) <= 3 and all(is_heading(text[s:e]) for s, e in block):
        return [Paragraph(block[0][0], block[-1][1], True)]
    paragraphs: list[Paragraph] = []
    index = 0
    while index < len(block) - 1:
        line = text[block[index][0] : block[index][1]]
        peel = is_numbered_heading(line) or (paragraphs and is_all_caps_title(line))
        if not peel:
            break
        paragraphs.append(Paragraph(block[index][0], block[index][1], True))
        index += 1
    paragraphs.append(Paragraph(block[index][0], block[-1][1]))
    return paragraphs


def is_numbered_heading(line: str) -> bool:
    """Return True for ``CHAPTER IV``, ``Chapter 3: Title``, ``BOOK ONE`` or ``XII``.

    A keyword and number followed by ordinary words ("Chapter two of her diary was
    missing") is a sentence, not a heading. A title may follow the number after a
    separator (``.``, ``:``, a dash), or without one in title case or capitals.
    """
    stripped = line.strip()
    if len(stripped) > 100:
        return False
    if _BARE_NUMBER_HEADING.match(stripped):
        return True
    match = _KEYWORD_HEADING.match(stripped)
    if match is None:
        return False
    rest = match.group("rest").strip()
    if not rest or rest[0] in ".:—–-":
        return True
    return _is_title_case(rest)


def _is_title_case(words_text: str) -> bool:
    words = re.findall(r"[A-Za-z][A-Za-z'’]*", words_text)
    if not words or words_text.rstrip()[-1:] in {",", ";"}:
        return False
    return all(word[0].isupper() or word in _TITLE_SMALL_WORDS for word in words)


def is_all_caps_title(line: str) -> bool:
    """Return True for a short line in capitals without quote marks (``THE LETTER``)."""
    stripped = line.strip()
    if len(stripped) > 60 or len(stripped.split()) > 10:
        return False
    if any(char in _QUOTE_CHARS for char in stripped):
        return False
    letters = [char for char in stripped if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def is_heading(line: str) -> bool:
    """Return True when a one-line paragraph is a chapter heading or a title."""
    return is_numbered_heading(line) or is_all_caps_title(line)


def _drop_all_caps_headings_if_common(
    text: str, paragraphs: list[Paragraph]
) -> list[Paragraph]:
    """Unmark all-caps "titles" when so many exist that the text is set in caps."""
    caps = [
        i
        for i, paragraph in enumerate(paragraphs)
        if paragraph.heading
        and not is_numbered_heading(text[paragraph.start : paragraph.end])
    ]
    if len(caps) <= 10 or len(caps) <= MAX_ALL_CAPS_SHARE * len(paragraphs):
        return paragraphs
    logger.info(
        "%d of %d paragraphs are in capitals; treating them as text, not headings",
        len(caps),
        len(paragraphs),
    )
    result = list(paragraphs)
    for i in caps:
        result[i] = dataclasses.replace(result[i], heading=False)
    return result
