"""Retype ships' names and pronouns, which the tagger takes for people's, to VEH.

Sailors call a ship "she", and the tagger types "Pequod" PER on every one of
its 154 mentions in Moby-Dick (and "the Pequod" LOC 19 times), so the ship
became a person and took the pronouns of people nearby. A ship's name differs
from a person's in what the book writes around it: people go aboard it ("on
board the Pequod"), it has a deck and a keel ("the Pequod's deck"), and it is
called a ship ("the whaler Jeroboam"). Nearness to ship words alone is no
evidence: in a whaling book "the Captain", "the Parsee" and "the White Whale"
stand among boats and crews too. A name whose mentions mostly follow "the",
which the tagger types PER more often than anything else, and which appears
in such a phrase at least ``MIN_SHIP_PHRASES`` times, becomes VEH on all its
mentions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from runner.analysis.entities import PER, PRON, PROP, VEH, Mention
from runner.analysis.lexicon import (
    HONORIFICS,
    PERSON_NOUNS,
    PRONOUN_GENDER,
    SHE,
    honorific_key,
)
from runner.analysis.token_table import TokenTable

MIN_SHIP_PHRASES = 3
ARTICLE_SHARE = 0.5
MAX_SHIP_NAME_WORDS = 3

# "aboard the Pequod", "on board of the Pequod".
_BOARDING_WORDS = frozenset({"aboard", "board"})
# "the whaler Jeroboam", "the good ship Rachel".
_SHIP_NOUNS = frozenset(
    """
    barque brig cutter frigate galleon schooner ship sloop steamer vessel whaler
    whale-ship yacht
    """.split()
)
# "the Pequod's deck".
_SHIP_PARTS = frozenset(
    """
    bows bowsprit bulwarks deck decks forecastle helm hold hull keel mast masts
    quarter-deck rigging sails stern timbers
    """.split()
)
_POSSESSIVES = frozenset({"'s", "’s"})
_SKIPPED = frozenset({"the", "of"})


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
    for words, named in by_name.items():
        if _is_title(words) or not _is_ship(named, word_at):
            continue
        # A bare "Rachel" beside "the Rachel" is the woman the ship is named for.
        for mention in named:
            if _has_article(mention, word_at) or _in_ship_phrase(mention, word_at):
                mention.category = VEH
                retyped += 1
    return retyped


def _is_title(words: tuple[str, ...]) -> bool:
    """Return True for a title or person noun ("the Captain"), never a ship."""
    return any(
        honorific_key(word) in HONORIFICS or word.lower() in PERSON_NOUNS
        for word in words
    )


def _has_article(mention: Mention, word_at: Callable[[int], str]) -> bool:
    return (
        word_at(mention.start).lower() == "the"
        or word_at(mention.start - 1).lower() == "the"
    )


def _is_ship(named: list[Mention], word_at: Callable[[int], str]) -> bool:
    categories = Counter(mention.category for mention in named)
    if categories.most_common(1)[0][0] != PER:
        return False
    with_article = sum(1 for mention in named if _has_article(mention, word_at))
    if with_article < ARTICLE_SHARE * len(named):
        return False
    in_ship_phrase = sum(1 for mention in named if _in_ship_phrase(mention, word_at))
    return in_ship_phrase >= MIN_SHIP_PHRASES


def _in_ship_phrase(mention: Mention, word_at: Callable[[int], str]) -> bool:
    """Return True for "aboard the X", "the ship X" or "the X's deck"."""
    before = mention.start - 1
    while word_at(before).lower() in _SKIPPED:
        before -= 1
    previous = word_at(before).lower()
    if previous in _BOARDING_WORDS or previous in _SHIP_NOUNS:
        return True
    if word_at(mention.end) in _POSSESSIVES:
        part = mention.end + 1
    elif word_at(mention.end + 1) in _POSSESSIVES:
        part = mention.end + 2
    else:
        return False
    return word_at(part).lower() in _SHIP_PARTS


# Nouns that a ship's "her" owns: "her sails", "her captain", "her course".
_OWNED_PARTS = _SHIP_PARTS | frozenset(
    "anchor boats bow cabin captain cargo colours course crew hatches sail side "
    "sides yards".split()
)
# Nouns of vessels that a "her" may stand for.
_VESSEL_NOUNS = _SHIP_NOUNS | {"boat", "canoe", "craft", "ark", "packet", "steamboat"}


def retype_ship_pronouns(
    mentions: Sequence[Mention], tokens: TokenTable, word_at: Callable[[int], str]
) -> int:
    """Type VEH a "her" that owns a part of a vessel.

    In "Captain Ahab stood on the deck of the Pequod. The ship was old, and
    her sails were patched." the "her" is the ship's, and linking it to the
    only person in reach made Ahab a woman. A "her" that owns a ship's part
    ("her sails", "her crew") becomes VEH under two conditions. The nearest
    earlier person or vessel mention in its sentence or the one before is a
    vessel ("the ship", a name retyped by ``retype_ship_names``, or a "her"
    already retyped), and no woman is in reach. Other pronouns stay: in "The
    ship sailed at noon, and her heart sank" the "her" is a woman's.
    ``mentions`` are sorted by start token. Returns how many changed.
    """
    retyped = 0
    for index, pronoun in enumerate(mentions):
        if pronoun.kind != PRON or pronoun.key != "her":
            continue
        owned = word_at(tokens.head[pronoun.start]).lower()
        if tokens.dep_of(pronoun.start) != "poss" or owned not in _OWNED_PARTS:
            continue
        nearest, woman = _antecedents_in_reach(mentions, index, tokens)
        if nearest is not None and _is_vessel(nearest) and not woman:
            pronoun.category = VEH
            retyped += 1
    return retyped


def _antecedents_in_reach(
    mentions: Sequence[Mention], index: int, tokens: TokenTable
) -> tuple[Mention | None, bool]:
    """Return the nearest person or vessel mention before ``mentions[index]``
    in its sentence or the one before, and whether a woman is among them."""
    pronoun = mentions[index]
    sentence = tokens.sentence[pronoun.start]
    nearest, woman = None, False
    for earlier in reversed(mentions[:index]):
        if tokens.sentence[earlier.start] < sentence - 1:
            break
        if earlier.end >= pronoun.start:
            continue
        if earlier.category == PER and _is_feminine(earlier):
            woman = True
        if nearest is None and earlier.category in (VEH, PER):
            if earlier.kind != PRON or earlier.category == VEH:
                nearest = earlier
    return nearest, woman


def _is_feminine(mention: Mention) -> bool:
    return mention.gender == SHE or (
        mention.kind == PRON and PRONOUN_GENDER.get(mention.key) == SHE
    )


def _is_vessel(mention: Mention) -> bool:
    """Return True for a ship's name, "the boat" or a ship's "her"."""
    if mention.category != VEH:
        return False
    return mention.kind in (PROP, PRON) or mention.key in _VESSEL_NOUNS
