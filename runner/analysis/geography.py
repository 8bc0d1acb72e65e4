"""Retype place names that open with a geographic word or a saint's title.

"Cape Horn" came out PER on all 16 of its mentions in Moby-Dick, and "St.
Louis" and "St. Petersburg" PER in a sentence about travel, so each became a
character. A name that opens with a word for a landform or a settlement
("Cape", "Mount", "Lake", "Port") is a place wherever it appears. "St." opens
the names of saints as well as of towns and churches, so a saint's name
becomes a town's only where at least half of its uses follow a preposition of
place ("sailed from St. Louis", "in St. Petersburg") and none is the subject
of a verb (St. John Rivers in Jane Eyre speaks and acts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from runner.analysis.entities import PER, POSSESSIVE_ENDINGS, PROP, Mention

LOC, GPE = "LOC", "GPE"

# First words of place names, with the category of the place they open.
_PLACE_WORDS = {
    **{
        word: LOC
        for word in """
        bay cape gulf isle isles lake loch mont mount mt point river strait straits
        """.split()
    },
    **{word: GPE for word in ("fort", "port")},
}
_SAINT_WORDS = frozenset({"st", "saint"})
# Words before a name that put it in a place. "to" counts only after a word of
# travel and "from" only after a word of a voyage, because people pray to
# saints and letters come from them. "at" and "near" never count, because
# people look at and stand near each other.
_IN_PLACE = frozenset({"in", "into", "through", "past"})
_VOYAGE_WORDS = frozenset(
    """
    flew journey journeyed sail sailed sailing steamed train travelled traveled
    voyage
    """.split()
)
_TRAVEL_WORDS = _VOYAGE_WORDS | frozenset(
    "back bound came come drove go going gone moved rode set walked way went".split()
)
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
# A saint's name is a town's when at least this share of its uses are placed.
PLACED_SHARE = 0.5


def retype_geographic_names(
    mentions: Sequence[Mention],
    word_at: Callable[[int], str],
    dep_at: Callable[[int], str],
) -> int:
    """Give PER names of places a place category; return how many changed.

    ``word_at`` and ``dep_at`` return the word and the dependency label of a
    token id (the word "" outside the book). Changes ``Mention.category`` in
    place.
    """
    names = [m for m in mentions if m.kind == PROP and m.category == PER]
    retyped = 0
    for mention in names:
        if not _named(mention):
            continue
        category = _PLACE_WORDS.get(_first_word(mention))
        if category is not None:
            mention.category = category
            retyped += 1
    towns = _placed_saints(names, word_at, dep_at)
    for mention in names:
        if mention.category == PER and mention.words in towns:
            mention.category = GPE
            retyped += 1
    return retyped


def _named(mention: Mention) -> bool:
    """Return True for a name of two or more words, the first a title case word."""
    return len(mention.words) >= 2 and mention.words[0][:1].isupper()


def _first_word(mention: Mention) -> str:
    return mention.words[0].lower().rstrip(".")


def _placed_saints(
    names: Sequence[Mention],
    word_at: Callable[[int], str],
    dep_at: Callable[[int], str],
) -> set[tuple[str, ...]]:
    """Return the "St." names that the book puts in a place, as towns."""
    tallies: dict[tuple[str, ...], Counter[str]] = {}
    for mention in names:
        if not _named(mention) or _first_word(mention) not in _SAINT_WORDS:
            continue
        tally = tallies.setdefault(mention.words, Counter())
        tally["all"] += 1
        if dep_at(mention.head) in _SUBJECT_DEPS:
            tally["subject"] += 1
        if {word_at(mention.end), word_at(mention.end + 1)} & POSSESSIVE_ENDINGS:
            continue  # "into St. Clare's arms" is no place
        before = word_at(mention.start - 1).lower()
        two_before = word_at(mention.start - 2).lower()
        if (
            before in _IN_PLACE
            or (before == "to" and two_before in _TRAVEL_WORDS)
            or (before == "from" and two_before in _VOYAGE_WORDS)
        ):
            tally["placed"] += 1
    return {
        words
        for words, tally in tallies.items()
        if tally["placed"]
        and not tally["subject"]
        and tally["placed"] >= PLACED_SHARE * tally["all"]
    }
