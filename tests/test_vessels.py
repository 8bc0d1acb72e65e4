"""Ship names that the tagger typed PER become VEH (``retype_ship_names``)."""

from __future__ import annotations

from runner.analysis.entities import NOM, PER, PRON, PROP, Mention
from runner.analysis.entities import VEH
from runner.analysis.vessels import retype_ship_names, retype_ship_pronouns

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


def _pronoun(token: int, key: str) -> Mention:
    return Mention(token, token, PER, PRON, token, key=key)


def test_ship_pronoun_becomes_vehicle() -> None:
    # "Captain Ahab stood on the deck . The ship was old , and her sails ..."
    sentence_of = [0] * 6 + [1] * 9
    ahab = Mention(0, 1, PER, PROP, 1, words=("Captain", "Ahab"))
    ship = Mention(6, 7, VEH, NOM, 7, key="ship")
    her = _pronoun(12, "her")
    assert retype_ship_pronouns([ahab, ship, her], sentence_of) == 1
    assert her.category == VEH


def test_woman_near_a_boat_keeps_her_pronoun() -> None:
    # "She stepped into the boat , and her hand shook ." and "... the coach ,
    # and her ..." (a coach is no ship).
    sentence_of = [0] * 12
    she = _pronoun(0, "she")
    boat = Mention(3, 4, VEH, NOM, 4, key="boat")
    her = _pronoun(7, "her")
    assert retype_ship_pronouns([she, boat, her], sentence_of) == 0
    coach = Mention(3, 4, VEH, NOM, 4, key="coach")
    assert retype_ship_pronouns([coach, _pronoun(7, "her")], sentence_of) == 0
