"""Score found quotes and their speakers against LitBank's quotations.

Quotes match when their first and last tokens (the marks) equal a gold quote's.

Speakers are scored on the gold quotes whose speaker text names exactly one
coreference chain and that overlap a predicted quote. Each predicted character
stands for the gold chain that most of its mentions belong to (exact spans).
A speaker is correct when the overlapping predicted quote's character stands
for the gold speaker's chain. Precision divides the correct ones by the quotes
given a speaker, and recall divides them by all scored quotes. A quote left
without a speaker therefore costs recall only.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from runner.tagger.litbank_quotes import GoldQuote
from runner.tagger.metrics import Counts


@dataclasses.dataclass(frozen=True)
class PredictedQuote:
    """A found quote in gold token offsets (``end`` inclusive) and its speaker."""

    start: int
    end: int
    character: int | None


@dataclasses.dataclass
class SpeakerCounts:
    """Speaker scores and the gold quotes that could not be scored, by reason."""

    counts: Counts = dataclasses.field(default_factory=Counts)
    unresolved: int = 0  # the speaker text names no chain or several
    unmatched: int = 0  # no predicted quote overlaps the gold quote


def character_chains(
    mentions: Iterable[tuple[int, int, int]],
    chains: dict[int, list[tuple[int, int]]],
) -> dict[int, int]:
    """Map characters to the gold chain that most of their mentions belong to.

    ``mentions`` contains ``(character, start, end)`` in gold token offsets. A
    mention counts when a gold mention has exactly its span; ties go to the
    chain with the lower id.
    """
    chain_at = {span: chain for chain, spans in chains.items() for span in spans}
    votes: dict[int, Counter[int]] = {}
    for character, start, end in mentions:
        chain = chain_at.get((start, end))
        if chain is not None:
            votes.setdefault(character, Counter())[chain] += 1
    return {
        character: min(tally, key=lambda chain: (-tally[chain], chain))
        for character, tally in votes.items()
    }


def quote_counts(
    predicted: Iterable[PredictedQuote], gold: Iterable[GoldQuote]
) -> Counts:
    counts = Counts()
    counts.add(
        [(quote.start, quote.end) for quote in predicted],
        [(quote.start, quote.end) for quote in gold],
    )
    return counts


def speaker_counts(
    predicted: Sequence[PredictedQuote],
    gold: Iterable[GoldQuote],
    chain_of_character: dict[int, int],
    chains_of_speaker: Callable[[str], set[int]],
) -> SpeakerCounts:
    """Count speaker decisions on the gold quotes that have a speaker."""
    result = SpeakerCounts()
    for quote in gold:
        if quote.speaker is None:
            continue
        chains = chains_of_speaker(quote.speaker)
        if len(chains) != 1:
            result.unresolved += 1
            continue
        found = _most_overlapping(predicted, quote)
        if found is None:
            result.unmatched += 1
            continue
        result.counts.gold += 1
        if found.character is None:
            continue
        result.counts.predicted += 1
        if chain_of_character.get(found.character) in chains:
            result.counts.true_positives += 1
    return result


def _most_overlapping(
    predicted: Sequence[PredictedQuote], quote: GoldQuote
) -> PredictedQuote | None:
    best, best_overlap = None, 0
    for candidate in predicted:
        overlap = min(candidate.end, quote.end) - max(candidate.start, quote.start) + 1
        if overlap > best_overlap:
            best, best_overlap = candidate, overlap
    return best
