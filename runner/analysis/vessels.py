"""Retype the names of ships, which the tagger takes for people, to VEH.

Sailors call a ship "she", and the tagger types "Pequod" PER on every one of
its 154 mentions in Moby-Dick (and "the Pequod" LOC 19 times), so the ship
became a person and took the pronouns of people nearby. A ship's name differs
from a person's in two ways that the book shows: it takes "the" ("the Pequod",
"the Rachel") and it appears among words of ships ("aboard the Pequod", "the
Pequod's deck"). A name whose mentions mostly follow "the", which the tagger
types PER more often than anything else, and which at least
``MIN_SHIP_CONTEXTS`` times has a ship word within ``SHIP_WINDOW`` tokens,
becomes VEH on all its mentions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from runner.analysis.entities import PER, PROP, Mention

VEH = "VEH"  # LitBank's category of vehicles
MIN_SHIP_CONTEXTS = 3
SHIP_WINDOW = 5
ARTICLE_SHARE = 0.5
MAX_SHIP_NAME_WORDS = 3

_SHIP_WORDS = frozenset(
    """
    aboard board boat bow bows brig craft crew cutter deck decks frigate hull
    keel mast masts schooner ship ship's ships sloop steamer stern vessel
    whaler whale-ship yacht
    """.split()
)


def retype_ship_names(
    mentions: Sequence[Mention], word_at: Callable[[int], str]
) -> int:
    """Type VEH every mention of a name the book uses as a ship's.

    Changes ``Mention.category`` in place and returns how many mentions changed.
    """
    by_name: dict[tuple[str, ...], list[Mention]] = {}
    for mention in mentions:
        if mention.kind != PROP:
            continue
        words = tuple(
            word_at(token)
            for token in range(mention.start, mention.end + 1)
            if word_at(token).lower() != "the"
        )
        if 0 < len(words) <= MAX_SHIP_NAME_WORDS:
            by_name.setdefault(words, []).append(mention)
    retyped = 0
    for named in by_name.values():
        if not _is_ship(named, word_at):
            continue
        for mention in named:
            mention.category = VEH
            retyped += 1
    return retyped


def _is_ship(named: list[Mention], word_at: Callable[[int], str]) -> bool:
    categories = Counter(mention.category for mention in named)
    if categories.most_common(1)[0][0] != PER:
        return False
    with_article = sum(
        1
        for mention in named
        if word_at(mention.start).lower() == "the"
        or word_at(mention.start - 1).lower() == "the"
    )
    if with_article < ARTICLE_SHARE * len(named):
        return False
    in_ship_context = sum(1 for mention in named if _near_ship_word(mention, word_at))
    return in_ship_context >= MIN_SHIP_CONTEXTS


def _near_ship_word(mention: Mention, word_at: Callable[[int], str]) -> bool:
    start = max(mention.start - SHIP_WINDOW, 0)
    for token in range(start, mention.end + SHIP_WINDOW + 1):
        if mention.start <= token <= mention.end:
            continue
        if word_at(token).lower() in _SHIP_WORDS:
            return True
    return False
