"""Names that the narrator or a speaker gives as their own ("Call me Ishmael")."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from runner.analysis.self_naming import self_naming_pronoun
from runner.engine import Engine
from runner.engines.spacy_engine import create_engine
from tests.test_speakers import analyse, quote_starting


def pronoun_for(text: str, name: str) -> str | None:
    """Return the word that ``self_naming_pronoun`` ties the name to, or None."""
    words = text.split()
    start = words.index(name.split()[0])
    end = start + len(name.split()) - 1

    def word_at(index: int) -> str:
        return words[index] if 0 <= index < len(words) else ""

    token = self_naming_pronoun(word_at, start, end)
    return None if token is None else words[token]


@pytest.mark.parametrize(
    "text, name, pronoun",
    [
        ("Call me Ishmael .", "Ishmael", "me"),
        ("they called me little Esther", "Esther", "me"),
        ("he called me her dear Davy ,", "Davy", "me"),
        ("My name is Mr. Guppy , sir", "Mr. Guppy", "My"),
        ("my name 's Jo .", "Jo", "my"),
        ("And I am Carstone , said he", "Carstone", "I"),
        ("I was christened Augusta .", "Augusta", "I"),
        # The name does not end the phrase: it names someone else.
        ("I am Mr. Brooke 's nephew", "Mr. Brooke", None),
        ("I am Dorothea and Celia", "Dorothea", None),
        # No naming words, or a noun phrase between "me" and the name.
        ("she sent me Ishmael .", "Ishmael", None),
        ("they call me the Lord Chancellor", "Lord Chancellor", None),
        ("her name is Kenge .", "Kenge", None),
    ],
)
def test_self_naming_pronoun(text: str, name: str, pronoun: str | None) -> None:
    assert pronoun_for(text, name) == pronoun


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


def character(result: dict[str, Any], character_id: int) -> dict[str, Any]:
    return next(c for c in result["characters"] if c["character_id"] == character_id)


def test_narrator_takes_own_name(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Call me Ishmael. Some years ago I went to sea with my friend Queequeg.\n\n"
        "Ishmael was no sailor then, and I knew it.\n",
    )
    narrators = [c for c in result["characters"] if "I" in c["names"]]
    assert len(narrators) == 1, [c["name"] for c in result["characters"]]
    narrator = narrators[0]
    assert narrator["name"] == "Ishmael"
    assert narrator["names"]["Ishmael"] == 2
    names = [c["name"] for c in result["characters"]]
    assert "the narrator" not in names
    assert names.count("Ishmael") == 1


def test_unnamed_narrator_keeps_label(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, "I went to sea with my friend Queequeg.\n")
    assert "the narrator" in [c["name"] for c in result["characters"]]


def test_quote_goes_to_given_name(engine: Engine, tmp_path) -> None:
    # "he" would otherwise take the quote to Queequeg, the last man named, and
    # spaCy tags "Kenge" an adjective.
    result = analyse(
        engine,
        tmp_path,
        "Queequeg came with me to the office.\n\n"
        '"My name is Kenge," he said to me. "You may remember it."\n\n'
        '"And I am Carstone," said the young man.\n',
    )
    kenge = quote_starting(result, '"My name is Kenge')["speaker"]
    assert kenge is not None
    assert kenge["name"] == "Kenge"
    # The tag between the halves speaks the second half too.
    second_half = quote_starting(result, '"You may remember')["speaker"]
    assert second_half is not None
    assert second_half["name"] == "Kenge"
    carstone = quote_starting(result, '"And I am')["speaker"]
    assert carstone is not None
    assert carstone["name"] == "Carstone"


def test_name_said_by_narrator_joins(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "I knocked at the door of the house.\n\n"
        '"My name is Copperfield," said I. "I have come to see my aunt."\n',
    )
    speaker = quote_starting(result, '"My name is')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Copperfield"
    narrator = character(result, speaker["character_id"])
    assert narrator["names"]["I"] >= 2
    assert narrator["names"]["Copperfield"] == 1
