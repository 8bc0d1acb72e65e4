"""Find the names that the narrator or a speaker gives as their own.

"Call me Ishmael", "they called me little Esther", "My name is Kenge", "I am
Carstone": the name belongs to whoever "me", "my" or "I" stands for, the
narrator in narration and the speaker in a quote. The parser counts such a
name as a person's, even when spaCy calls the word an adjective ("Kenge"), and
the cast gives the name's character to the narrator or the quote to it.
"""

from __future__ import annotations

from collections.abc import Callable

# Verbs that give a name to their object: "call me", "christened me".
_NAMING_VERBS = frozenset(
    "call called calls calling christened name named names".split()
)
# Words that may stand between "me" and the name: "called me her dear Davy".
_NAME_MODIFIERS = frozenset("dear her his little old own poor their young".split())
_MAX_MODIFIERS = 3
_IS = frozenset({"is", "was", "'s", "’s"})
_AM = frozenset({"am", "'m", "’m"})
_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})


def self_naming_pronoun(
    word_at: Callable[[int], str], start: int, end: int
) -> int | None:
    """Return the token of the "me", "my" or "I" that the name is given to.

    ``start`` and ``end`` are the name's first and last token; ``word_at``
    returns a token's text, or "" outside the text. None when no naming words
    come right before the name. "I am" counts only when the name ends its
    phrase, so "I am Mr. Brooke's nephew" names nobody.
    """
    position = start - 1
    skipped = 0
    while skipped < _MAX_MODIFIERS and word_at(position).lower() in _NAME_MODIFIERS:
        position -= 1
        skipped += 1
    before = word_at(position).lower()
    if before == "me" and word_at(position - 1).lower() in _NAMING_VERBS:
        return position
    if skipped:
        return None
    if (
        before in _IS
        and word_at(position - 1).lower() == "name"
        and word_at(position - 2).lower() == "my"
    ):
        return position - 2
    if before in _AM and word_at(position - 1) == "I":
        following = word_at(end + 1)
        if following in _POSSESSIVES or following[:1].isalnum():
            return None
        return position - 1
    if (
        before in ("christened", "named")
        and word_at(position - 1).lower() == "was"
        and word_at(position - 2) == "I"
    ):
        return position - 2
    return None
