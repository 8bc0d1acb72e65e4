"""Tie person noun phrases (NOM mentions) to the names they restate.

A noun phrase restates a name in four dependency patterns, read off spaCy's parse:

- apposition after the name: "Oskar, the purser" (the noun is ``appos`` of it);
- apposition or compound before it: "Her sister Ingrid";
- a copula: "Cecily Harlow was their only daughter" (``nsubj`` and ``attr`` of
  the same verb);
- naming: "a stout man named Oskar" (the name is an object of ``named`` or
  ``called``, which modifies the noun).

A noun phrase in apposition to another one shares its name ("the purser, a stout
man named Oskar"). Such a noun phrase joins the name's character, and its noun's
gender and the pronouns that refer to it count for that character.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence, Set

from collections import Counter

from runner.analysis.entities import FAC, NOM, PER, PROP, Mention
from runner.analysis.token_table import TokenTable

# How far (in tokens) an unnamed noun phrase may lie from a speaker with the same
# noun to be taken for the same character.
MAX_NOMINAL_DISTANCE = 400

_NAMING_WORDS = frozenset({"named", "called"})
_NAMED_OBJECT_DEPS = frozenset({"oprd", "dobj", "attr", "npadvmod", "xcomp", "appos"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})


def equate_nominals(
    mentions: Sequence[Mention], tokens: TokenTable, word: Callable[[int], str]
) -> dict[int, int]:
    """Return ``{NOM mention index: PROP mention index}`` for restated names.

    Args:
        mentions: all mentions.
        tokens: the document's token table.
        word: returns the text of a token id.
    """
    names: dict[int, int] = {}
    nominals: dict[int, int] = {}
    for index, mention in enumerate(mentions):
        if mention.category != PER:
            continue
        if mention.kind == PROP:
            names.setdefault(mention.head, index)
        elif mention.kind == NOM:
            nominals.setdefault(mention.head, index)
    equal: dict[int, int] = {}
    for head, index in nominals.items():
        for token in _restated_name_tokens(head, tokens, word):
            if token in names and not _addressed_listener(head, token, tokens, word):
                equal[index] = names[token]
                break
    _share_across_appositions(nominals, equal, tokens)
    return equal


def retype_restated_places(
    mentions: Sequence[Mention], tokens: TokenTable, word: Callable[[int], str]
) -> int:
    """Retype PER names that a place noun phrase restates, in the whole book.

    "Brassing was a noisy market town": the tagger calls an unfamiliar town
    a person, but the same patterns that tie "the purser" to Oskar tie the
    town noun phrase to the name. A parse error can do the same to a person
    ("their own room, Jane, taking"), so a name that is the subject of a
    clause more than ``SUBJECTS_PER_PLACE_RESTATEMENT`` times per restatement
    stays a person. Every PER mention with the name's words takes the place's
    category. Returns the number of mentions retyped.
    """
    names: dict[int, int] = {}
    subjects: Counter[tuple[str, ...]] = Counter()
    for index, mention in enumerate(mentions):
        if mention.kind == PROP and mention.category == PER:
            names.setdefault(mention.head, index)
            if tokens.dep_of(mention.head) in _SUBJECT_DEPS:
                subjects[mention.words] += 1
    votes: dict[tuple[str, ...], Counter[str]] = {}
    for mention in mentions:
        if mention.kind != NOM or mention.category not in _PLACE_CATEGORIES:
            continue
        for token in _restated_name_tokens(mention.head, tokens, word):
            if token in names:
                name = mentions[names[token]]
                votes.setdefault(name.words, Counter())[mention.category] += 1
                break
    places = {
        words: tally.most_common(1)[0][0]
        for words, tally in votes.items()
        if subjects[words] <= SUBJECTS_PER_PLACE_RESTATEMENT * tally.total()
    }
    retyped = 0
    for mention in mentions:
        place = places.get(mention.words)
        if place and mention.kind == PROP and mention.category == PER:
            mention.category = place
            retyped += 1
    return retyped


# Towns are subjects too ("Brassing was a noisy market town"), but people far
# more often: Jane Bennet is the subject of some 200 clauses in Pride and
# Prejudice.
SUBJECTS_PER_PLACE_RESTATEMENT = 3
_PLACE_CATEGORIES = frozenset({FAC, "GPE", "LOC"})


_LISTENER_POSSESSIVES = frozenset({"your", "thy"})


def _addressed_listener(
    noun: int, name: int, tokens: TokenTable, word: Callable[[int], str]
) -> bool:
    """Return True for "your mother, Esther," where the name is the listener.

    The parser reads the name set off by commas as an apposition, but "your"
    makes the noun someone other than the listener, whom the name addresses.
    """
    owned_by_listener = any(
        tokens.dep_of(child) == "poss" and word(child).lower() in _LISTENER_POSSESSIVES
        for child in tokens.children(noun)
    )
    return owned_by_listener and word(name - 1) == ","


def _restated_name_tokens(
    noun: int, tokens: TokenTable, word: Callable[[int], str]
) -> list[int]:
    """Return tokens that may head the name that the noun at ``noun`` restates."""
    found = []
    dep = tokens.dep_of(noun)
    parent = tokens.head[noun]
    if dep == "appos":
        found.append(parent)
    for child in tokens.children(noun):
        child_dep = tokens.dep_of(child)
        if child_dep in ("appos", "compound"):
            found.append(child)
        elif child_dep == "acl" and word(child).lower() in _NAMING_WORDS:
            found.extend(
                grandchild
                for grandchild in tokens.children(child)
                if tokens.dep_of(grandchild) in _NAMED_OBJECT_DEPS
            )
    if dep == "attr":
        found.extend(
            child
            for child in tokens.children(parent)
            if tokens.dep_of(child) in _SUBJECT_DEPS
        )
    return found


def _share_across_appositions(
    nominals: dict[int, int], equal: dict[int, int], tokens: TokenTable
) -> None:
    for head, index in nominals.items():
        if tokens.dep_of(head) != "appos":
            continue
        other = nominals.get(tokens.head[head])
        if other is None:
            continue
        if index in equal and other not in equal:
            equal[other] = equal[index]
        elif other in equal and index not in equal:
            equal[index] = equal[other]


def attach_unnamed(mentions: Sequence[Mention], kept_apart: Set[int]) -> None:
    """Give unnamed noun phrases the character of the same noun nearby.

    Only characters that already have a noun phrase of that noun (a speaker such
    as "her uncle") take others, within ``MAX_NOMINAL_DISTANCE`` tokens. The
    mentions at the indices in ``kept_apart`` take none, and neither do noun
    phrases the tagger typed other than PER ("the company" as ORG after a
    speaking "the company").
    """
    anchors: dict[str, list[tuple[int, int]]] = {}
    for mention in mentions:
        if mention.kind == NOM and mention.character is not None:
            anchors.setdefault(mention.key, []).append(
                (mention.start, mention.character)
            )
    for found in anchors.values():
        found.sort()
    for index, mention in enumerate(mentions):
        if mention.kind != NOM or mention.character is not None:
            continue
        if mention.category != PER or index in kept_apart:
            continue
        nearest = nearest_anchor(anchors.get(mention.key, []), mention.start)
        if nearest is not None:
            mention.character = nearest


def nearest_anchor(anchors: list[tuple[int, int]], start: int) -> int | None:
    """Return the character of the ``(start, character)`` anchor nearest ``start``.

    ``anchors`` must be sorted; anchors further than ``MAX_NOMINAL_DISTANCE``
    tokens away do not count.
    """
    if not anchors:
        return None
    position = bisect.bisect_left(anchors, (start, -1))
    best: tuple[int, int] | None = None
    for neighbour in anchors[max(position - 1, 0) : position + 1]:
        distance = abs(neighbour[0] - start)
        if distance <= MAX_NOMINAL_DISTANCE and (best is None or distance < best[0]):
            best = (distance, neighbour[1])
    return best[1] if best is not None else None
