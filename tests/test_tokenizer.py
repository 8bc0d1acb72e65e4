"""The fiction tokenizer rules of runner.engines.spacy_pipeline, without the engine."""

from __future__ import annotations

import pytest
from spacy.language import Language

from runner.engines.spacy_pipeline import load_pipeline


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_pipeline()[0]


def tokens(nlp: Language, text: str) -> list[str]:
    return [token.text for token in nlp.tokenizer(text)]


def test_exclamation_before_double_hyphen(nlp: Language) -> None:
    text = "“Poor Miss Taylor!--I wish she were here again,”"
    assert tokens(nlp, text)[:7] == ["“", "Poor", "Miss", "Taylor", "!", "--", "I"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("said I. ‘There", ["said", "I", ".", "‘", "There"]),
        ("said I.’", ["said", "I", ".", "’"]),
        ("CHAPTER I.", ["CHAPTER", "I", "."]),
        # Other initials stay whole.
        ("Mr. J. Smith", ["Mr.", "J.", "Smith"]),
    ],
)
def test_pronoun_i_before_period_splits(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert tokens(nlp, text) == expected


@pytest.mark.parametrize("mark", ["!", "?", ".", ";", ",", ":", "?!"])
@pytest.mark.parametrize("dash", ["--", "---", "—", "–", "―", "‒", "⸺", "⸻"])
def test_punctuation_before_dash_splits(nlp: Language, mark: str, dash: str) -> None:
    assert tokens(nlp, f"Taylor{mark}{dash}I") == ["Taylor", mark, dash, "I"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Taylor!-- I", ["Taylor", "!", "--", "I"]),
        ("said I!--", ["said", "I", "!", "--"]),
        ("said --I", ["said", "--", "I"]),
        ("said ―I", ["said", "―", "I"]),
        ("Taylor!'--I", ["Taylor", "!", "'", "--", "I"]),
        ("Taylor.’—She", ["Taylor", ".", "’", "—", "She"]),
        ("Taylor!”--I", ["Taylor", "!", "”", "--", "I"]),
        ("Taylor...--I", ["Taylor", "...", "--", "I"]),
    ],
)
def test_dash_splits_beside_spaces_and_marks(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert tokens(nlp, text) == expected


@pytest.mark.parametrize("word", ["Mr.", "Mrs.", "St.", "Ph.D.", "J."])
@pytest.mark.parametrize("dash", ["--", "—"])
def test_abbreviation_keeps_period_before_dash(
    nlp: Language, word: str, dash: str
) -> None:
    assert tokens(nlp, f"{word}{dash}I") == [word, dash, "I"]


@pytest.mark.parametrize("word", ["Mr.", "etc.", "Capt.", "Taylor."])
def test_period_before_dash_as_before_space(nlp: Language, word: str) -> None:
    # The tokenizer keeps "Mr." whole before a space but splits "etc." and
    # "Capt.", and a dash must give the same pieces.
    before_space = tokens(nlp, f"{word} I")[:-1]
    assert tokens(nlp, f"{word}--I") == [*before_space, "--", "I"]


# Lines from Jane Austen's "Emma" (1815), where the stock rules left
# "Woodhouse?)", "(rather" and "Harriet's" as words between two dashes, and a
# name span took the brackets with it.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "was, Miss Woodhouse?)--for",
            ["was", ",", "Miss", "Woodhouse", "?", ")", "--", "for"],
        ),
        ("Yes--(rather", ["Yes", "--", "(", "rather"]),
        ("hesitatingly)--I", ["hesitatingly", ")", "--", "I"]),
        ("she spoke).--However", ["she", "spoke", ")", ".", "--", "However"]),
        ("John Knightley)--your", ["John", "Knightley", ")", "--", "your"]),
        ("on Harriet's--more", ["on", "Harriet", "'s", "--", "more"]),
        ("at Ford's.”--Ford's", ["at", "Ford", "'s", ".", "”", "--", "Ford", "'s"]),
    ],
)
def test_brackets_and_possessives_split_before_and_after_dashes(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert tokens(nlp, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("_You_ will", ["_", "You", "_", "will"]),
        ("her_ friend", ["her", "_", "friend"]),
        # An underscore inside a word is no italic mark.
        ("snake_case", ["snake_case"]),
    ],
)
def test_italic_underscores_split_off_words(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert tokens(nlp, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Bleak House: "Tom" of the slum's name became a character.
        ("in Tom-all-Alone's;", ["in", "Tom-all-Alone's", ";"]),
        ("at Stoke-on-Trent.", ["at", "Stoke-on-Trent", "."]),
        # Lower-case words alone on either side still split.
        ("a well-to-do man", ["a", "well", "-", "to", "-", "do", "man"]),
        ("Tom-all-alone", ["Tom", "-", "all", "-", "alone"]),
    ],
)
def test_joined_place_names_stay_whole(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert tokens(nlp, text) == expected


def test_joined_place_name_is_propn(nlp: Language) -> None:
    doc = nlp("The next crash in Tom-all-Alone's may be heard.")
    assert [t.pos_ for t in doc if t.text == "Tom-all-Alone's"] == ["PROPN"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("met Jose\u0301.", ["met", "Jose\u0301", "."]),
        ("the cafe\u0301, then", ["the", "cafe\u0301", ",", "then"]),
        ("Zoe\u0308!", ["Zoe\u0308", "!"]),
    ],
)
def test_punctuation_after_combining_mark(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert tokens(nlp, text) == expected
