"""Score the characters given to third-person pronouns against LitBank's chains.

The scored pronouns are the gold mentions that are one gendered third-person
pronoun ("he", "her", "himself"...) in a chain that also has a mention other
than a pronoun, so that a character can stand for the chain. Each predicted
character stands for the gold chain that most of its name and noun-phrase
mentions belong to (exact spans). Pronoun mentions do not vote, because they
are what is scored.

A pronoun is correct when the engine's mention with exactly its token belongs
to a character that stands for the pronoun's chain. Precision divides the
correct pronouns by the scored pronouns that have a character, and recall
divides them by all scored pronouns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from runner.tagger.metrics import Counts
from runner.tagger.quote_metrics import character_chains

THIRD_PERSON_SINGULAR = frozenset(
    {"he", "him", "his", "himself", "she", "her", "hers", "herself"}
)
# Every pronoun that can make up a mention on its own: a chain of these alone
# has no name or noun phrase that a character could be matched by.
PRONOUNS = THIRD_PERSON_SINGULAR | frozenset(
    {
        "i", "me", "my", "mine", "myself", "we", "us", "our", "ours",
        "ourselves", "you", "your", "yours", "yourself", "yourselves", "thou",
        "thee", "thy", "thine", "thyself", "it", "its", "itself", "they",
        "them", "their", "theirs", "themselves", "one", "who", "whom", "whose",
    }
)


def is_pronoun(tokens: Sequence[str], start: int, end: int) -> bool:
    """Return True when the span is one token that is a pronoun."""
    return start == end and tokens[start].lower() in PRONOUNS


def pronoun_counts(
    mentions: Iterable[tuple[int, int, int]],
    chains: dict[int, list[tuple[int, int]]],
    tokens: Sequence[str],
) -> Counts:
    """Count correct, predicted and gold pronoun characters in one document.

    Args:
        mentions: ``(character, start, end)`` of the engine's mentions that
            have a character, in gold token offsets with ``end`` inclusive.
        chains: the gold chains, as ``read_chains`` returns them.
        tokens: the gold tokens.
    """
    mentions = list(mentions)
    voters = [m for m in mentions if not is_pronoun(tokens, m[1], m[2])]
    chain_of_character = character_chains(voters, chains)
    character_at = {(start, end): character for character, start, end in mentions}
    counts = Counts()
    for chain, spans in chains.items():
        if all(is_pronoun(tokens, start, end) for start, end in spans):
            continue
        for start, end in spans:
            if start != end or tokens[start].lower() not in THIRD_PERSON_SINGULAR:
                continue
            counts.gold += 1
            character = character_at.get((start, end))
            if character is None:
                continue
            counts.predicted += 1
            if chain_of_character.get(character) == chain:
                counts.true_positives += 1
    return counts
