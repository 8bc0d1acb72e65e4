"""Unit tests of runner.analysis.layout and runner.analysis.chunks."""

from __future__ import annotations

import pytest

from runner.analysis.chunks import (
    CollapsedText,
    estimate_tokens,
    make_pieces,
    plan_chunks,
)
from runner.analysis.layout import (
    Paragraph,
    find_analysed_span,
    is_heading,
    is_numbered_heading,
    normalize_text,
    split_paragraphs,
)


def paragraph_texts(text: str) -> list[str]:
    normalized = normalize_text(text)
    return [
        normalized[p.start : p.end] for p in split_paragraphs(normalized, 0, len(text))
    ]


def heading_flags(text: str) -> list[bool]:
    normalized = normalize_text(text)
    return [p.heading for p in split_paragraphs(normalized, 0, len(text))]


def test_normalize_keeps_length() -> None:
    raw = "\ufeffOne\r\ntwo\rthree\n"
    normalized = normalize_text(raw)
    assert len(normalized) == len(raw)
    assert normalized == " One \ntwo\nthree\n"


def test_normalize_blanks_boms_outside_words() -> None:
    # Chapter files joined with cat, each starting with a BOM.
    raw = (
        'Tom left.\n\n\ufeff"You are late," said Ann. '
        '\ufeff\ufeffEliz\ufeffa.\ufeff"Hi'
    )
    expected = 'Tom left.\n\n "You are late," said Ann.   Eliz\ufeffa. "Hi'
    assert normalize_text(raw) == expected


def test_normalize_without_changes() -> None:
    assert normalize_text("plain\ntext") == "plain\ntext"


def test_span_between_gutenberg_markers() -> None:
    text = (
        "Header line\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n"
        "Story.\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nLicence."
    )
    span = find_analysed_span(text)
    assert text[span.start : span.end].strip() == "Story."
    assert span.boilerplate_removed is True


def test_span_without_markers_whole() -> None:
    text = "Just a story.\n"
    span = find_analysed_span(text)
    assert (span.start, span.end) == (0, len(text))
    assert span.boilerplate_removed is False


def test_span_start_marker_only() -> None:
    text = "Header\n*** START OF THIS PROJECT GUTENBERG EBOOK Y ***\nStory to the end."
    span = find_analysed_span(text)
    assert text[span.start : span.end].strip() == "Story to the end."
    assert span.end == len(text)


def test_span_cuts_end_of_ebook_line() -> None:
    text = (
        "*** START OF THE PROJECT GUTENBERG EBOOK Z ***\nStory.\n\n"
        "End of the Project Gutenberg EBook of Z\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK Z ***\n"
    )
    span = find_analysed_span(text)
    assert text[span.start : span.end].strip() == "Story."


def test_span_of_old_release() -> None:
    # The layout of releases from the 1990s, with the text written for this test.
    text = (
        "The Project Gutenberg Etext of A Tale\n\nLegal notes by the author.\n\n"
        "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n"
        "A TALE\n\nAnn walked home.\n\nEnd of the Project Gutenberg Etext of A Tale\n"
    )
    span = find_analysed_span(text)
    assert text[span.start : span.end] == "\n\nA TALE\n\nAnn walked home.\n\n"
    assert span.boilerplate_removed


def test_old_release_notice_at_end_kept() -> None:
    # Some old releases print the legal notice after the book.
    book = "A TALE\n\n" + "Ann walked home, and Tom followed her.\n\n" * 20
    text = (
        "The Project Gutenberg Etext of A Tale\n\n" + book
        + "End of the Project Gutenberg Etext of A Tale\n\nLegal notes.\n"
        "*END THE SMALL PRINT! FOR PUBLIC DOMAIN EBOOKS*Ver.02/11/02*END*\n"
    )
    span = find_analysed_span(text)
    assert book in text[span.start : span.end]


def test_old_release_ends_at_end_marker() -> None:
    text = (
        "Legal notes.\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*END*\n\n"
        "Ann walked home.\n\n*** END OF THE PROJECT GUTENBERG EBOOK A TALE ***\n"
        "More legal notes.\n"
    )
    span = find_analysed_span(text)
    assert text[span.start : span.end] == "\n\nAnn walked home.\n\n"


def test_paragraphs_split_blank_lines() -> None:
    text = "One line\nwrapped here.\n\nSecond paragraph.\n\n\nThird."
    assert paragraph_texts(text) == [
        "One line\nwrapped here.",
        "Second paragraph.",
        "Third.",
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_paragraphs_same_any_newline(newline: str) -> None:
    text = newline.join(["First line", "goes on.", "", "Second.", "", "Third."])
    texts = paragraph_texts(text)
    assert len(texts) == 3
    assert [t.split() for t in texts] == [
        ["First", "line", "goes", "on."],
        ["Second."],
        ["Third."],
    ]


@pytest.mark.parametrize("separator", ["\u2029", "\f", "\n\f\n", "\u2029\n"])
def test_paragraph_separators_split(separator: str) -> None:
    text = separator.join(["First line\ngoes on.", "Second.", "Third."])
    texts = paragraph_texts(text)
    assert len(texts) == 3
    assert [t.split() for t in texts] == [
        ["First", "line", "goes", "on."],
        ["Second."],
        ["Third."],
    ]


def test_paragraph_separator_keeps_offsets() -> None:
    text = "“Come here,” said Ann.\u2029“No,” said Tom.\u2029He left."
    normalized = normalize_text(text)
    assert len(normalized) == len(text)
    paragraphs = split_paragraphs(normalized, 0, len(normalized))
    assert [text[p.start : p.end] for p in paragraphs] == [
        "“Come here,” said Ann.",
        "“No,” said Tom.",
        "He left.",
    ]


@pytest.mark.parametrize("separator", ["\u2028", "\v"])
def test_line_separators_are_line_breaks(separator: str) -> None:
    raw = f"One{separator}two"
    assert normalize_text(raw) == "One\ntwo"
    lines = ['"Is it?" asked Petra.', "Her uncle nodded.", '"Yes," he said.']
    assert paragraph_texts(separator.join(lines)) == lines
    wrapped = f"She walked to the end of the{separator}lane.\u2029Then she slept."
    assert paragraph_texts(wrapped) == [
        "She walked to the end of the\nlane.",
        "Then she slept.",
    ]


def test_span_markers_between_paragraph_separators() -> None:
    text = (
        "Header\u2029*** START OF THE PROJECT GUTENBERG EBOOK X ***\u2029"
        "Story.\fEnd of the Project Gutenberg EBook of X\f"
        "*** END OF THE PROJECT GUTENBERG EBOOK X ***\u2029Licence."
    )
    span = find_analysed_span(text)
    assert text[span.start : span.end].strip() == "Story."
    assert span.boilerplate_removed is True


def test_paragraphs_line_mode_without_blanks() -> None:
    text = '"Is it?" asked Petra.\nHer uncle nodded.\n"Yes," he said.'
    assert paragraph_texts(text) == [
        '"Is it?" asked Petra.',
        "Her uncle nodded.",
        '"Yes," he said.',
    ]


def test_paragraphs_line_mode_joins_wraps() -> None:
    text = "She walked to the end of the\nlane and back.\nThen she slept."
    assert paragraph_texts(text) == [
        "She walked to the end of the\nlane and back.",
        "Then she slept.",
    ]


def test_paragraphs_line_mode_by_ratio() -> None:
    # One blank line after a title, then 60 lines without any: 61 non-blank lines
    # in 2 blocks is over 20 lines per block, so each line is a paragraph.
    body = "\n".join(f"Line {n} ends here." for n in range(60))
    texts = paragraph_texts("A Title\n\n" + body)
    assert len(texts) == 61


def test_paragraphs_blank_mode_below_ratio() -> None:
    body = "\n".join(f"line {n} goes on" for n in range(30))
    texts = paragraph_texts("A Title\n\n" + body)
    assert len(texts) == 2


@pytest.mark.parametrize(
    "line",
    [
        "CHAPTER I",
        "CHAPTER II.",
        "Chapter 3",
        "Chapter 12: The Storm",
        "CHAPTER IV. THE LETTER",
        "BOOK ONE",
        "PART ONE",
        "I",
        "III",
        "XII.",
        "THE LETTER",
        "THERE IS NO ONE LEFT",
    ],
)
def test_heading_lines_detected(line: str) -> None:
    assert is_heading(line)


@pytest.mark.parametrize(
    "line",
    [
        "Chapter two of her grandmother's diary was missing, and Agnes meant to go.",
        "Chapter and verse, she said.",
        '"HELP!"',
        "It was a dark night.",
        "A",
    ],
)
def test_ordinary_lines_not_headings(line: str) -> None:
    assert not is_heading(line)


def test_numbered_heading_keeps_title() -> None:
    assert is_numbered_heading("CHAPTER I. THE LETTER")
    assert not is_numbered_heading("Chapter one was dull and I skipped it.")


def test_heading_peeled_from_block() -> None:
    text = "Preface.\n\nCHAPTER I\nTHE LETTER\nAgnes found it.\nShe read it."
    assert paragraph_texts(text) == [
        "Preface.",
        "CHAPTER I",
        "THE LETTER",
        "Agnes found it.\nShe read it.",
    ]
    assert heading_flags(text) == [False, True, True, False]


def test_heading_paragraphs_flagged() -> None:
    text = "CHAPTER I\n\nTHE LETTER\n\nAgnes found it.\n\nIII\n\nThe end came."
    assert heading_flags(text) == [True, True, False, True, False]


def test_capitals_text_not_headings() -> None:
    text = "\n\n".join(f"THE DOG RAN {n} TIMES." for n in range(12))
    assert not any(heading_flags(text))


def test_estimate_tokens_counts_words_punctuation() -> None:
    # spaCy finds 10 tokens here (it splits "'s" and "n't"); the estimate is 9.
    assert estimate_tokens("It’s Mr. Darcy's hat, isn't it?") == 9


def test_pieces_split_long_paragraph() -> None:
    sentence = "The rain fell on the long road home. "
    text = sentence * 100
    paragraph = Paragraph(0, len(text.rstrip()))
    pieces = make_pieces(text, [paragraph], max_chars=500)
    assert len(pieces) > 1
    assert all(piece.end - piece.start <= 500 for piece in pieces)
    assert all(piece.paragraph_id == 0 for piece in pieces)
    assert pieces[0].start == 0
    assert pieces[-1].end == paragraph.end
    for before, after in zip(pieces, pieces[1:]):
        assert text[before.end : after.start].strip() == ""


def test_pieces_keep_short_paragraphs() -> None:
    text = "One.\n\nTwo."
    paragraphs = [Paragraph(0, 4), Paragraph(6, 10, heading=True)]
    pieces = make_pieces(text, paragraphs)
    assert [(p.start, p.end, p.paragraph_id, p.heading) for p in pieces] == [
        (0, 4, 0, False),
        (6, 10, 1, True),
    ]


def test_chunks_cover_all_pieces() -> None:
    text = "\n\n".join("word " * 30 for _ in range(50))
    paragraphs = []
    position = 0
    for block in text.split("\n\n"):
        paragraphs.append(Paragraph(position, position + len(block.rstrip())))
        position += len(block) + 2
    pieces = make_pieces(text, paragraphs)
    chunks = plan_chunks(pieces, target_tokens=100)
    covered = [index for chunk in chunks for index in chunk]
    assert covered == list(range(len(pieces)))
    # Four 30-token paragraphs reach the 100-token target: 12 chunks and a rest.
    assert len(chunks) == 13


def test_collapsed_text_maps_back() -> None:
    source = "xx  Hello,\r\n  world \n\tagain  "
    view = CollapsedText(source, 2, len(source))
    assert view.text == " Hello, world again "
    for word in ("Hello,", "world", "again"):
        index = view.text.index(word)
        start = view.to_source(index)
        assert source[start : start + len(word)] == word
        assert view.to_collapsed(start) == index


def test_markers_out_of_order_keep_text() -> None:
    text = (
        "A story about Ann.\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\n"
        "*** START OF THE PROJECT GUTENBERG EBOOK X ***\n"
    )
    span = find_analysed_span(text)
    assert (span.start, span.end) == (0, len(text))
    assert span.boilerplate_removed is False


def test_end_before_start_keeps_text() -> None:
    text = (
        "Header.\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\n"
        'Mary said, "Hello." John left.\n'
        "*** START OF THE PROJECT GUTENBERG EBOOK X ***\nTrailer.\n"
    )
    span = find_analysed_span(text)
    assert (span.start, span.end) == (0, len(text))
    assert span.boilerplate_removed is False


def test_markers_around_nothing_give_blank_span() -> None:
    start_line = "*** START OF THE PROJECT GUTENBERG EBOOK X ***"
    text = (
        f"Preface by Ann.\n{start_line}\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK X ***\n"
    )
    span = find_analysed_span(text)
    start = text.index(start_line) + len(start_line)
    assert (span.start, span.end) == (start, start + 2)
    assert text[span.start : span.end] == "\n\n"
    assert span.boilerplate_removed is True


def test_format_character_line_is_blank() -> None:
    text = "Mary came in.\n\u200b\nShe sat down.\n\u00ad \u2060\nThe end.\n"
    paragraphs = split_paragraphs(text, 0, len(text))
    assert [text[p.start : p.end] for p in paragraphs] == [
        "Mary came in.",
        "She sat down.",
        "The end.",
    ]
