"""Keep BookNLP's tagger predictions inside their sentences.

BookNLP 1.0.8's ``Tagger.tag_all`` reads event predictions for one position
too many: its sentence lengths count the ``[CLS]`` and ``[SEP]`` markers, and
its event loop stops one short of the length instead of two. An event predicted
on the closing ``[SEP]`` then points one token past the sentence, and
``LitBankEntityTagger.tag`` raises ``IndexError`` when it looks that token up,
which fails the whole book. Any model whose event head fires on ``[SEP]`` hits
this, and the random-weight test models do within a few thousand tokens.

``sentence_bounded`` wraps ``tag_all`` so that every event, entity and
supersense it returns lies inside its sentence. The package's files are not
changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# BookNLP's sentence lengths include the [CLS] and [SEP] markers.
MARKERS_PER_SENTENCE = 2


def sentence_lengths(
    batched_lengths: Sequence[Sequence[int]], ordering: Sequence[int]
) -> list[int]:
    """Return the word count of each sentence, in the book's sentence order.

    ``batched_lengths`` contains BookNLP's lengths (markers included) batch by
    batch, in the length-sorted order that ``ordering`` maps back to the book's.
    """
    flat = [length for batch in batched_lengths for length in batch]
    words = [0] * len(ordering)
    for position, sentence in enumerate(ordering):
        words[sentence] = flat[position] - MARKERS_PER_SENTENCE
    return words


def _spans_inside(
    spans_by_sentence: list[dict[Any, int]] | None, words: list[int]
) -> list[dict[Any, int]] | None:
    # Span keys are (sentence, label, start, end) with an exclusive end.
    if spans_by_sentence is None:
        return None
    return [
        {key: value for key, value in spans.items() if key[3] <= words[sentence]}
        for sentence, spans in enumerate(spans_by_sentence)
    ]


def _events_inside(
    events_by_sentence: list[dict[int, int]] | None, words: list[int]
) -> list[dict[int, int]] | None:
    if events_by_sentence is None:
        return None
    return [
        {token: value for token, value in events.items() if token < words[sentence]}
        for sentence, events in enumerate(events_by_sentence)
    ]


def sentence_bounded(tag_all: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a bound ``Tagger.tag_all`` to drop predictions past a sentence's end."""

    def bounded(
        batched_wn: Any,
        batched_sents: Any,
        batched_data: Any,
        batched_mask: Any,
        batched_transforms: Any,
        batched_orig_token_lens: Sequence[Sequence[int]],
        ordering: Sequence[int],
        **options: Any,
    ) -> tuple[Any, Any, Any]:
        entities, events, supersenses = tag_all(
            batched_wn,
            batched_sents,
            batched_data,
            batched_mask,
            batched_transforms,
            batched_orig_token_lens,
            ordering,
            **options,
        )
        words = sentence_lengths(batched_orig_token_lens, ordering)
        return (
            _spans_inside(entities, words),
            _events_inside(events, words),
            _spans_inside(supersenses, words),
        )

    return bounded
