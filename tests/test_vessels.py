"""Ship names that the tagger typed PER become VEH (``retype_ship_names``)."""

from __future__ import annotations

from runner.analysis.entities import PER, PROP, VEH, Mention
from runner.analysis.vessels import retype_ship_names

# Written for this project, in the manner of Moby-Dick.
WORDS = (
    "We went aboard the Pequod at noon . The Pequod was an old ship . "
    "Ahab paced the Pequod 's deck . The whaler Pequod sailed at dawn . "
    "The Captain stood in the boat and the Captain hailed the crew . "
    "The Captain left the ship . "
    "The boat took us down the Thames to the ship , aboard the Thames barge ."
).split()


def _word_at(token: int) -> str:
    return WORDS[token] if 0 <= token < len(WORDS) else ""


def _mentions_of(name: str, category: str) -> list[Mention]:
    return [
        Mention(token, token, category, PROP, token)
        for token, word in enumerate(WORDS)
        if word == name
    ]


def test_ship_name_becomes_vehicle() -> None:
    pequod = _mentions_of("Pequod", PER)
    pequod[1].category = "LOC"
    assert retype_ship_names(pequod, _word_at) == 4
    assert {mention.category for mention in pequod} == {VEH}


def test_people_and_rivers_stay() -> None:
    # The Captain takes "the" and appears beside a boat and a crew, but nobody
    # goes aboard him. The Thames is boarded, but the tagger typed it a place.
    captain = _mentions_of("Captain", PER)
    ahab = _mentions_of("Ahab", PER)
    river = _mentions_of("Thames", "LOC")
    assert retype_ship_names(captain + ahab + river, _word_at) == 0
    assert {mention.category for mention in captain + ahab} == {PER}
    assert {mention.category for mention in river} == {"LOC"}


def test_few_ship_phrases_stay() -> None:
    words = "the Pequod came . the Pequod went . aboard the Pequod we sat".split()
    pequod = [
        Mention(token, token, PER, PROP, token)
        for token, word in enumerate(words)
        if word == "Pequod"
    ]

    def word_at(token: int) -> str:
        return words[token] if 0 <= token < len(words) else ""

    assert retype_ship_names(pequod, word_at) == 0
    assert {mention.category for mention in pequod} == {PER}


def test_namesake_and_captain_stay() -> None:
    words = (
        "Rachel stood on the deck of the Rachel . aboard the Rachel we sat . "
        "the whaler Rachel sailed . the Rachel 's mast broke . Rachel smiled . "
        "aboard the Captain we sat . the ship Captain left . the Captain 's deck"
    ).split()
    mentions = [
        Mention(token, token, PER, PROP, token)
        for token, word in enumerate(words)
        if word in ("Rachel", "Captain")
    ]

    def word_at(token: int) -> str:
        return words[token] if 0 <= token < len(words) else ""

    retype_ship_names(mentions, word_at)
    categories = [(words[m.start], word_at(m.start - 1), m.category) for m in mentions]
    assert categories == [
        ("Rachel", "", PER),
        ("Rachel", "the", VEH),
        ("Rachel", "the", VEH),
        ("Rachel", "whaler", VEH),
        ("Rachel", "the", VEH),
        ("Rachel", ".", PER),
        ("Captain", "the", PER),
        ("Captain", "ship", PER),
        ("Captain", "the", PER),
    ]

