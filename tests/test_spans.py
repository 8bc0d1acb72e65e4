"""Span scoring and decoding of nested mentions (runner/tagger/spans.py)."""

from __future__ import annotations

import pytest
import torch

from runner.tagger.litbank import CATEGORIES
from runner.tagger.spans import (
    MAX_SPAN_WORDS,
    SPAN_CLASSES,
    SpanScorer,
    crosses,
    decode_spans,
    nesting_layers,
    span_mask,
    span_targets,
)

PER = CATEGORIES.index("PER") + 1
LOC = CATEGORIES.index("LOC") + 1


@pytest.mark.parametrize(
    ("a", "b", "crossing"),
    [
        ((0, 2), (1, 3), True),
        ((1, 3), (0, 2), True),
        ((0, 3), (1, 2), False),  # nested
        ((0, 1), (2, 3), False),  # apart
        ((0, 1), (0, 1), False),  # the same span
        ((0, 2), (2, 4), True),  # sharing one word
    ],
)
def test_crosses(a: tuple, b: tuple, crossing: bool) -> None:
    assert crosses(a, b) is crossing


def test_nesting_layers_count_from_innermost() -> None:
    # "[[[her] sister]'s house]" and a separate "[Bath]".
    spans = [(0, 3), (0, 1), (0, 0), (5, 5)]
    assert nesting_layers(spans) == [2, 1, 0, 0]


def test_nesting_layer_above_deepest_inside() -> None:
    # The outer span contains a two-deep mention and a lone one.
    spans = [(0, 9), (0, 0), (0, 2), (5, 5)]
    assert nesting_layers(spans) == [2, 0, 1, 0]


def _scores(words: int, entities: dict) -> torch.Tensor:
    """Return scores where "no entity" wins everywhere except at ``entities``.

    ``entities`` maps (first, last) to (class, logit); the logit ranks the span.
    """
    scores = torch.zeros(1, words, words, SPAN_CLASSES)
    scores[..., 0] = 5.0
    for (first, last), (label, logit) in entities.items():
        scores[0, first, last, label] = logit
    return scores


def test_decode_keeps_nested_drops_crossing() -> None:
    words = 6
    scores = _scores(
        words,
        {
            (0, 1): (PER, 9.0),  # "her sister"
            (0, 0): (PER, 8.0),  # "her", nested: kept
            (1, 3): (LOC, 7.0),  # crosses the first: dropped
            (4, 5): (LOC, 6.0),
        },
    )
    mask = span_mask(torch.ones(1, words, dtype=torch.bool), torch.zeros(1, words))
    assert decode_spans(scores, mask) == [[(0, 0, PER), (0, 1, PER), (4, 5, LOC)]]


def test_decode_ranks_by_probability() -> None:
    words = 4
    # The weaker span comes first in reading order but loses to the stronger.
    scores = _scores(words, {(0, 1): (PER, 6.0), (1, 2): (LOC, 9.0)})
    mask = span_mask(torch.ones(1, words, dtype=torch.bool), torch.zeros(1, words))
    assert decode_spans(scores, mask) == [[(1, 2, LOC)]]


def test_decode_ignores_masked_spans() -> None:
    words = 4
    scores = _scores(words, {(1, 2): (PER, 9.0)})
    sentences = torch.tensor([[0, 0, 1, 1]])  # the span crosses a sentence
    mask = span_mask(torch.ones(1, words, dtype=torch.bool), sentences)
    assert decode_spans(scores, mask) == [[]]


def test_span_mask_bounds() -> None:
    words = MAX_SPAN_WORDS + 3
    word_mask = torch.ones(1, words, dtype=torch.bool)
    word_mask[0, -1] = False  # padding
    mask = span_mask(word_mask, torch.zeros(1, words))[0]
    assert mask[0, 0]
    assert mask[0, MAX_SPAN_WORDS - 1]
    assert not mask[0, MAX_SPAN_WORDS]  # one word too long
    assert not mask[2, 1]  # last word before the first
    assert not mask[:, -1].any()  # ends on padding
    assert not mask[-1].any()  # starts on padding


def test_span_targets_place_gold_classes() -> None:
    targets = span_targets([[(0, 1, PER)], [(2, 2, LOC)]], words=3)
    assert targets.shape == (2, 3, 3)
    assert targets[0, 0, 1] == PER
    assert targets[1, 2, 2] == LOC
    assert int(targets.count_nonzero()) == 2


def test_scorer_adds_width_bias() -> None:
    torch.manual_seed(0)
    scorer = SpanScorer(hidden=8, size=4).eval()
    with torch.no_grad():
        scorer.width_bias[1, PER] = 100.0
        scores = scorer(torch.randn(2, 5, 8))
    assert scores.shape == (2, 5, 5, SPAN_CLASSES)
    # Every two-word span, and only those, gets the bias.
    assert scores[0, 0, 1, PER] > 50
    assert scores[0, 3, 4, PER] > 50
    assert scores[0, 0, 2, PER] < 50


def _layers_by_definition(spans: list[tuple[int, int]]) -> list[int]:
    """Compute layers straight from the definition, in quadratic time."""

    def layer(span: tuple[int, int]) -> int:
        inside = [
            other
            for other in spans
            if other != span and span[0] <= other[0] and other[1] <= span[1]
        ]
        return 1 + max(map(layer, inside)) if inside else 0

    return [layer(span) for span in spans]


def test_nesting_layers_match_definition() -> None:
    import random

    generator = random.Random(1)
    for _ in range(500):
        spans: list[tuple[int, int]] = []
        for _ in range(generator.randint(0, 12)):
            first = generator.randint(0, 15)
            span = (first, generator.randint(first, first + 6))
            if span not in spans and not any(crosses(span, o) for o in spans):
                spans.append(span)
        assert nesting_layers(spans) == _layers_by_definition(spans), spans
