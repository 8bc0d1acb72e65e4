"""The hard cases in tests/data/cases, run through the spaCy engine directly.

Each case text reproduces a kind of failure seen in BookNLP-style pipelines; the
asserts are the statements that a correct result must satisfy. The texts are read
and written as bytes, so the CRLF case keeps its line endings.
"""

from __future__ import annotations

import pathlib
from typing import Any

import orjson
import pytest

from runner.engine import Engine, JobRequest, ProgressReporter
from runner.engines.spacy_engine import STAGE_WEIGHTS, create_engine

CASES = pathlib.Path(__file__).parent / "data" / "cases"
ALL_COMPONENTS = ("tokens", "entities", "quotes", "characters")
OPENING_MARKS = {'"', "“"}
CLOSING_MARKS = {'"', "”"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


def analyse(engine: Engine, tmp_path: pathlib.Path, data: bytes) -> dict[str, Any]:
    """Run the engine on ``data`` (the file's exact bytes) and return the result."""
    text_path = tmp_path / "book.txt"
    text_path.write_bytes(data)
    result_path = tmp_path / "result.json"
    messages: list[dict[str, Any]] = []
    reporter = ProgressReporter(messages.append, lambda: False, STAGE_WEIGHTS)
    job = JobRequest("case", str(text_path), str(result_path), ALL_COMPONENTS, "fast")
    engine.run(job, reporter)
    result = orjson.loads(result_path.read_bytes())
    result["submitted"] = data.decode("utf-8")
    return result


def case_bytes(name: str) -> bytes:
    return (CASES / name).read_bytes()


def words(result: dict[str, Any]) -> list[str]:
    return [token["word"] for token in result["tokens"]]


def inner(quote: dict[str, Any]) -> str:
    """Return a quote's text without its quotation marks."""
    return quote["text"].strip('"“”')


def speaker_name(quote: dict[str, Any]) -> str | None:
    return quote["speaker"]["name"] if quote["speaker"] else None


def quote_with(result: dict[str, Any], fragment: str) -> dict[str, Any]:
    found = [quote for quote in result["quotes"] if fragment in quote["text"]]
    assert len(found) == 1, f"expected one quote with {fragment!r}, got {found}"
    return found[0]


def character_named(result: dict[str, Any], form: str) -> dict[str, Any]:
    found = [c for c in result["characters"] if form in c["names"]]
    assert len(found) == 1, f"expected one character named {form!r}, got {found}"
    return found[0]


def sentence_words(result: dict[str, Any], sentence_id: int) -> list[str]:
    return [t["word"] for t in result["tokens"] if t["sentence_id"] == sentence_id]


# 04: CRLF, CR-only and LF line endings.

CRLF = case_bytes("04-crlf-paragraphs.txt")
LINE_ENDINGS = {
    "crlf": CRLF,
    "cr": CRLF.replace(b"\n", b""),
    "lf": CRLF.replace(b"\r", b""),
    # "ps" has paragraph separators (U+2029) between paragraphs and line
    # separators (U+2028) inside them. "ff" has form feeds between paragraphs.
    "ps": CRLF.replace(b"\r\n\r\n", "\u2029".encode()).replace(
        b"\r\n", "\u2028".encode()
    ),
    "ff": CRLF.replace(b"\r\n\r\n", b"\f").replace(b"\r", b""),
}


def test_crlf_case_stored_with_crlf() -> None:
    assert b"\r\n" in CRLF


@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
def test_line_endings_three_paragraphs(engine: Engine, tmp_path, ending: str) -> None:
    result = analyse(engine, tmp_path, LINE_ENDINGS[ending])
    assert result["text"]["paragraphs"] == 3


def test_line_endings_same_words(engine: Engine, tmp_path_factory) -> None:
    results = {
        ending: analyse(engine, tmp_path_factory.mktemp(ending), data)
        for ending, data in LINE_ENDINGS.items()
    }
    assert words(results["crlf"]) == words(results["lf"])
    assert words(results["cr"]) == words(results["lf"])
    assert words(results["ps"]) == words(results["lf"])
    assert words(results["ff"]) == words(results["lf"])


@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
def test_line_endings_no_carriage_return(engine: Engine, tmp_path, ending: str) -> None:
    result = analyse(engine, tmp_path, LINE_ENDINGS[ending])
    assert not [word for word in words(result) if "\r" in word]


@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
def test_line_endings_split_tea_and(engine: Engine, tmp_path, ending: str) -> None:
    tokens = words(analyse(engine, tmp_path, LINE_ENDINGS[ending]))
    index = tokens.index("tea")
    assert tokens[index + 1] == ","
    assert tokens[index + 2] == "and"


@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
def test_line_endings_offsets_exact(engine: Engine, tmp_path, ending: str) -> None:
    result = analyse(engine, tmp_path, LINE_ENDINGS[ending])
    submitted = result["submitted"]
    for token in result["tokens"]:
        assert submitted[token["start"] : token["end"]] == token["word"]


@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
def test_line_endings_quote_speakers(engine: Engine, tmp_path, ending: str) -> None:
    result = analyse(engine, tmp_path, LINE_ENDINGS[ending])
    quotes = result["quotes"]
    assert len(quotes) == 2
    assert speaker_name(quotes[0]) == "Oskar"
    assert speaker_name(quotes[1]) == "Miriam Voss"


# 05: an unclosed quote in a text without blank lines.

UNCLOSED = case_bytes("05-unclosed-quote-no-blank-lines.txt")
# The same text with other line endings must give the same quotes.
UNCLOSED_ENDINGS = {
    "lf": UNCLOSED,
    "crlf": UNCLOSED.replace(b"\n", b"\r\n"),
    "cr": UNCLOSED.replace(b"\n", b"\r"),
}


@pytest.mark.parametrize("ending", sorted(UNCLOSED_ENDINGS))
def test_unclosed_quote_spares_narration(engine: Engine, tmp_path, ending: str) -> None:
    result = analyse(engine, tmp_path, UNCLOSED_ENDINGS[ending])
    texts = [quote["text"] for quote in result["quotes"]]
    assert not [text for text in texts if "harbour anyway" in text]
    assert not [text for text in texts if "gulls" in text]
    assert not [text for text in texts if "harbour office" in text]


@pytest.mark.parametrize("ending", sorted(UNCLOSED_ENDINGS))
def test_unclosed_quote_ends_on_line(engine: Engine, tmp_path, ending: str) -> None:
    result = analyse(engine, tmp_path, UNCLOSED_ENDINGS[ending])
    submitted = result["submitted"]
    quote = quote_with(result, "The wind turned")
    line_end = min(
        index
        for index in (submitted.find(mark, quote["start"]) for mark in "\r\n")
        if index >= 0
    )
    assert quote["end"] <= line_end


def test_unclosed_case_speakers(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, UNCLOSED)
    assert speaker_name(quote_with(result, "There it is,")) == "Petra"
    assert speaker_name(quote_with(result, "Is the boat in?")) == "Petra"
    uncle = speaker_name(quote_with(result, "Not yet,"))
    assert uncle is not None and "uncle" in uncle


# 06: em dashes and a speech interrupted by narration.

DASHES = case_bytes("06-em-dash-dialogue.txt")


def test_dash_dialogue_four_quotes(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, DASHES)["quotes"]
    assert [inner(quote) for quote in quotes] == [
        "Is anyone here?",
        "Tobias, are you",
        "hiding from me again?",
        "You’re early,",
    ]


def test_dash_dialogue_narration_outside(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, DASHES)["quotes"]
    assert not [q for q in quotes if "she pushed open the study door" in q["text"]]


def test_dash_dialogue_speakers(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, DASHES)["quotes"]
    assert speaker_name(quotes[0]) == "Ada"
    assert speaker_name(quotes[1]) == "Ada"
    assert speaker_name(quotes[2]) == "Ada"
    assert speaker_name(quotes[3]) == "Tobias"


def test_dash_dialogue_separate_tokens(engine: Engine, tmp_path) -> None:
    tokens = words(analyse(engine, tmp_path, DASHES))
    index = tokens.index("you")
    assert tokens[index + 1] == "”"
    assert tokens[index + 2] == "—"
    assert tokens[index + 3] == "she"


# 07: possessive apostrophes and a nested quote.

NESTED = case_bytes("07-nested-quotes-possessives.txt")


def test_nested_case_three_quotes(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, NESTED)["quotes"]
    assert len(quotes) == 3
    assert speaker_name(quotes[0]) == "Greta"
    assert speaker_name(quotes[1]) == "Greta"
    assert speaker_name(quotes[2]) == "Ingrid"


def test_nested_quote_stays_inside(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, NESTED)["quotes"]
    assert "‘Mind the ice, it’s thin as paper.’" in quotes[1]["text"]
    assert not [quote for quote in quotes if quote["text"].startswith("‘")]


def test_apostrophes_never_quote_marks(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, NESTED)
    submitted = result["submitted"]
    apostrophes = {i for i, char in enumerate(submitted) if char == "’"}
    for quote in result["quotes"]:
        assert quote["start"] not in apostrophes
        assert quote["end"] - 1 not in apostrophes
        assert submitted[quote["start"]] in OPENING_MARKS
        assert submitted[quote["end"] - 1] in CLOSING_MARKS


def test_nested_case_last_line_unquoted(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, NESTED)
    last_line = result["submitted"].rstrip("\n").rfind("\n") + 1
    assert all(quote["end"] <= last_line for quote in result["quotes"])


# 09: speech tags after ? and !, inverted tags, beats and narration.

TAGS = case_bytes("09-said-after-question.txt")


def test_speech_tags_speaker_order(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, TAGS)["quotes"]
    assert [speaker_name(quote) for quote in quotes] == [
        "Mr. Okafor", "Tunde", "Tunde", "Mr. Okafor", "Adaeze", "Adaeze", "Tunde",
    ]  # fmt: skip


def test_quote_sentences_start_at_mark(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, TAGS)
    tokens = result["tokens"]
    for quote in result["quotes"]:
        first_word = tokens[quote["start_token"] + 1]
        assert first_word["token_id_in_sentence"] != 0, quote["text"]


def test_no_sentence_starts_closing_mark(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, TAGS)
    tokens = result["tokens"]
    for quote in result["quotes"]:
        closing = tokens[quote["end_token"]]
        assert closing["token_id_in_sentence"] != 0, quote["text"]


def test_inverted_tag_one_sentence(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, TAGS)
    quote = quote_with(result, "Who left the gate open?")
    sentence_id = result["tokens"][quote["start_token"]]["sentence_id"]
    assert " ".join(sentence_words(result, sentence_id)) == (
        '" Who left the gate open ? " demanded Mr. Okafor .'
    )


# 12: Mr. and Mrs. with one surname, and a daughter under three names.

SURNAME = case_bytes("12-mr-mrs-same-surname.txt")


def test_shared_surname_separate_characters(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, SURNAME)
    mister = character_named(result, "Mr. Harlow")
    missus = character_named(result, "Mrs. Harlow")
    penrose = character_named(result, "Mrs. Penrose")
    assert mister["character_id"] != missus["character_id"]
    assert penrose["character_id"] not in (
        mister["character_id"],
        missus["character_id"],
    )
    assert mister["gender"]["argmax"] == "he/him/his"
    assert missus["gender"]["argmax"] == "she/her"


def test_shared_surname_never_mixed(engine: Engine, tmp_path) -> None:
    for character in analyse(engine, tmp_path, SURNAME)["characters"]:
        names = character["names"]
        assert not {"Mr. Harlow", "Mrs. Harlow"} <= set(names), character


def test_bare_surname_follows_pronoun(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, SURNAME)
    offset = result["submitted"].index("Harlow, as the men")
    bare = [e for e in result["entities"] if e["start"] == offset]
    assert len(bare) == 1
    assert bare[0]["text"] == "Harlow"
    assert (
        bare[0]["character_id"] == character_named(result, "Mr. Harlow")["character_id"]
    )


def test_daughter_names_one_character(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, SURNAME)
    cecily = character_named(result, "Cecily Harlow")
    assert "Cecily" in cecily["names"]
    assert "Miss Harlow" in cecily["names"]
    assert cecily["gender"]["argmax"] == "she/her"


# 16: Project Gutenberg header and footer.

GUTENBERG = case_bytes("16-gutenberg-boilerplate.txt")


def without_markers(data: bytes) -> bytes:
    lines = data.decode("utf-8").splitlines(keepends=True)
    kept = [
        line for line in lines if not line.startswith(("*** START OF", "*** END OF"))
    ]
    return "".join(kept).encode("utf-8")


def test_gutenberg_story_characters(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, GUTENBERG)
    rosalind = character_named(result, "Rosalind Pike")
    assert "Rosalind" in rosalind["names"]
    assert character_named(result, "Mr. Dunmore")


def test_gutenberg_boilerplate_ignored(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, GUTENBERG)
    submitted = result["submitted"]
    start = submitted.index("\n", submitted.index("*** START OF")) + 1
    end = submitted.index("*** END OF")
    assert result["text"]["boilerplate_removed"] is True
    assert start - 1 <= result["text"]["analysed_span"][0] <= start
    assert result["text"]["analysed_span"][1] == end
    for entity in result["entities"]:
        assert start <= entity["start"], entity
        assert entity["end"] <= end, entity
    assert not [e for e in result["entities"] if "Edwina" in e["text"]]
    per = [e for e in result["entities"] if e["category"] == "PER"]
    assert not [e for e in per if "Gutenberg" in e["text"]]
    assert not [c for c in result["characters"] if "Edwina" in c["name"]]


def test_gutenberg_offsets_exact(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, GUTENBERG)
    submitted = result["submitted"]
    assert result["tokens"]
    for token in result["tokens"]:
        assert submitted[token["start"] : token["end"]] == token["word"]


def test_gutenberg_without_markers(engine: Engine, tmp_path) -> None:
    data = without_markers(GUTENBERG)
    result = analyse(engine, tmp_path, data)
    assert b"*** START" not in data
    assert result["text"]["boilerplate_removed"] is False
    assert result["text"]["analysed_span"] == [0, len(result["submitted"])]
    assert character_named(result, "Rosalind Pike")
    assert character_named(result, "Mr. Dunmore")


# 17: chapter headings.

HEADINGS = case_bytes("17-chapter-headings.txt")


def test_heading_numeral_not_pronoun(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, HEADINGS)
    tokens = result["tokens"]
    numeral = tokens[1]
    assert [tokens[0]["word"], numeral["word"]] == ["CHAPTER", "I"]
    assert numeral["pos"] == "NUM"
    assert not [
        e for e in result["entities"] if e["start_token"] == numeral["token_id"]
    ]
    assert not [c for c in result["characters"] if c["name"] in ("I", "CHAPTER I")]


def test_heading_own_sentence(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, HEADINGS)
    for sentence_id in {t["sentence_id"] for t in result["tokens"]}:
        text = " ".join(sentence_words(result, sentence_id))
        holds_both = "CHAPTER" in text and "Agnes Moore found" in text
        assert not holds_both, text


def test_heading_no_person_entities(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, HEADINGS)
    per = [e["text"] for e in result["entities"] if e["category"] == "PER"]
    assert not [text for text in per if "CHAPTER" in text]
    assert "THE LETTER" not in per
    assert "III" not in per


def test_heading_case_one_character(engine: Engine, tmp_path) -> None:
    characters = analyse(engine, tmp_path, HEADINGS)["characters"]
    assert [c["name"] for c in characters] == ["Agnes Moore"]
    assert characters[0]["gender"]["argmax"] == "she/her"


def test_chapter_word_starts_sentence(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, HEADINGS)
    chapter = [t for t in result["tokens"] if t["word"] == "Chapter"]
    assert len(chapter) == 1
    sentence = sentence_words(result, chapter[0]["sentence_id"])
    assert "grandmother" in sentence
    assert "Agnes" in sentence


# Punctuation glued to a typewriter dash, as in Project Gutenberg's Austen.

GLUED_DASH = (
    "“Poor Miss Taylor!--I wish she were here again,” said Emma.\n\n"
    "“What a pity it is that Mr. Weston ever thought of her!”--said her father."
    "\n\nMiss Taylor had gone.\n"
).encode()


def test_glued_dash_splits_punctuation(engine: Engine, tmp_path) -> None:
    tokens = words(analyse(engine, tmp_path, GLUED_DASH))
    assert "Taylor!" not in tokens
    index = tokens.index("Taylor")
    assert tokens[index : index + 4] == ["Taylor", "!", "--", "I"]


def test_glued_dash_one_character(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, GLUED_DASH)
    taylor = character_named(result, "Miss Taylor")
    assert set(taylor["names"]) == {"Miss Taylor"}
    assert not [e for e in result["entities"] if "!" in e["text"]]


# An elided year in a book with single quotation marks.

ELIDED_YEAR = "He came home in '49.\n\n'Come here,' said Mary.\n".encode()


def test_elided_year_opens_no_quote(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, ELIDED_YEAR)["quotes"]
    assert [quote["text"] for quote in quotes] == ["'Come here,'"]
    assert speaker_name(quotes[0]) == "Mary"


# The wife's turns carry tags but the husband's never do, so only her naming
# him ("My dear Mr. Bennet,") shows who speaks the untagged turns.
ADDRESSED_REPLY = (
    "Mrs. Bennet came in at noon.\n\n"
    "\u201cMy dear Mr. Bennet, have you heard the news?\u201d said she.\n\n"
    "\u201cI have not.\u201d\n\n"
    "\u201cNetherfield Park is let at last,\u201d said Mrs. Bennet.\n\n"
    "\u201cIs it indeed?\u201d\n"
)


def test_named_listener_speaks_next(engine: Engine, tmp_path) -> None:
    quotes = analyse(engine, tmp_path, ADDRESSED_REPLY.encode())["quotes"]
    speakers = [speaker_name(quote) for quote in quotes]
    assert speakers == ["Mrs. Bennet", "Mr. Bennet", "Mrs. Bennet", "Mr. Bennet"]
