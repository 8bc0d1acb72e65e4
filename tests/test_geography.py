"""Place names the tagger typed PER get a place category (``geography``)."""

from __future__ import annotations

from runner.analysis.entities import PER, PROP, Mention
from runner.analysis.geography import retype_geographic_names

# Written for this project.
WORDS = (
    "They sailed from St. Louis and rounded Cape Horn . "
    "St. John said nothing , and St. John left . "
    "She prayed to St. Anthony , then took the train to St. Petersburg . "
    "Diana smiled at St. Clare and stood near St. Clare . "
    "Eva threw herself into St. Clare 's arms . A letter came from St. Clare ."
).split()


def _word_at(token: int) -> str:
    return WORDS[token] if 0 <= token < len(WORDS) else ""


def _dep_at(token: int) -> str:
    # "John" of "St. John said" and "St. John left" is a subject.
    return "nsubj" if WORDS[token] == "John" else "pobj"


def _names() -> dict[str, list[Mention]]:
    found: dict[str, list[Mention]] = {}
    for token, word in enumerate(WORDS[:-1]):
        if word in ("St.", "Cape"):
            words = (word, WORDS[token + 1])
            mention = Mention(token, token + 1, PER, PROP, token + 1, words=words)
            found.setdefault(" ".join(words), []).append(mention)
    return found


def test_places_retyped_and_people_kept() -> None:
    names = _names()
    mentions = sorted(
        (m for group in names.values() for m in group), key=lambda m: m.start
    )
    assert retype_geographic_names(mentions, _word_at, _dep_at) == 3
    assert [m.category for m in names["Cape Horn"]] == ["LOC"]
    assert [m.category for m in names["St. Louis"]] == ["GPE"]
    assert [m.category for m in names["St. Petersburg"]] == ["GPE"]
    # A saint prayed to, a man who acts, and a man smiled at, embraced and
    # written from stay persons.
    assert [m.category for m in names["St. Anthony"]] == [PER]
    assert [m.category for m in names["St. John"]] == [PER, PER]
    assert [m.category for m in names["St. Clare"]] == [PER] * 4
