"""Score every word span of a window as an entity, and decode nested mentions.

LitBank nests mentions up to four deep ("[[her] sister]"). Rather than one BIO
column per nesting layer, each span of at most ``MAX_SPAN_WORDS`` words inside
one sentence gets a score for "no entity" and for each category, from a
biaffine product of its first and last word's states. Decoding keeps the best
spans that do not cross one another, so nesting comes out directly.
"""

from __future__ import annotations

import torch
from torch import nn

from runner.tagger.litbank import CATEGORIES

# Class 0 is "no entity", and class k is CATEGORIES[k - 1].
SPAN_CLASSES = len(CATEGORIES) + 1
# 98.9% of LitBank's 11,184 mentions have at most 20 words. Longer ones are
# never predicted.
MAX_SPAN_WORDS = 20


class SpanScorer(nn.Module):
    """Biaffine scores [batch, first word, last word, class] from word states."""

    def __init__(self, hidden: int, size: int = 150, dropout: float = 0.1):
        super().__init__()
        self.first = _projection(hidden, size, dropout)
        self.last = _projection(hidden, size, dropout)
        # One bilinear form per class. The 1 appended to each side adds the
        # linear terms and a bias.
        self.biaffine = nn.Parameter(torch.zeros(SPAN_CLASSES, size + 1, size + 1))
        # Mentions of two words are common and of fifteen rare: a learned bias
        # per width and class.
        self.width_bias = nn.Parameter(torch.zeros(MAX_SPAN_WORDS, SPAN_CLASSES))

    def forward(self, word_states: torch.Tensor) -> torch.Tensor:
        ones = word_states.new_ones(word_states.shape[:-1] + (1,))
        first = torch.cat([self.first(word_states), ones], dim=-1)
        last = torch.cat([self.last(word_states), ones], dim=-1)
        scores = torch.einsum("bid,cde,bje->bijc", first, self.biaffine, last)
        words = word_states.shape[1]
        width = torch.arange(words, device=scores.device)
        # Spans that end before they start get width 0; span_mask drops them.
        width = (width.view(1, -1) - width.view(-1, 1)).clamp(0, MAX_SPAN_WORDS - 1)
        return scores + self.width_bias[width]


def _projection(hidden: int, size: int, dropout: float) -> nn.Module:
    return nn.Sequential(nn.Linear(hidden, size), nn.GELU(), nn.Dropout(dropout))


def span_mask(word_mask: torch.Tensor, sentence_ids: torch.Tensor) -> torch.Tensor:
    """Return [batch, first, last] True where a span may be a mention.

    A span is valid when it is at most ``MAX_SPAN_WORDS`` long, lies on real
    words and does not cross a sentence boundary.
    """
    words = word_mask.shape[1]
    index = torch.arange(words, device=word_mask.device)
    width = index.view(1, -1) - index.view(-1, 1)
    in_range = (width >= 0) & (width < MAX_SPAN_WORDS)
    real = word_mask.unsqueeze(2) & word_mask.unsqueeze(1)
    same = sentence_ids.unsqueeze(2) == sentence_ids.unsqueeze(1)
    return in_range.unsqueeze(0) & real & same


def span_targets(
    spans: list[list[tuple[int, int, int]]], words: int
) -> torch.Tensor:
    """Return the gold class [batch, first, last] of each window's spans."""
    targets = torch.zeros(len(spans), words, words, dtype=torch.long)
    for row, window_spans in enumerate(spans):
        for first, last, label in window_spans:
            targets[row, first, last] = label
    return targets


def crosses(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Return True when two spans overlap without one containing the other."""
    overlap = a[0] <= b[1] and b[0] <= a[1]
    nested = (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])
    return overlap and not nested


def decode_spans(
    scores: torch.Tensor, mask: torch.Tensor
) -> list[list[tuple[int, int, int]]]:
    """Pick each window's mentions: (first word, last word, class), nested.

    A span is a candidate when a category outscores "no entity". Candidates
    are taken in order of probability, and each is chosen unless it crosses a
    span chosen before it.
    """
    probabilities = scores.float().softmax(-1)
    best, label = probabilities[..., 1:].max(-1)
    label = label + 1
    candidate = mask & (best > probabilities[..., 0])
    decoded = []
    for row in range(scores.shape[0]):
        firsts, lasts = candidate[row].nonzero(as_tuple=True)
        probability = best[row, firsts, lasts].tolist()
        spans = zip(firsts.tolist(), lasts.tolist())
        ranked = [span for _, span in sorted(zip(probability, spans), reverse=True)]
        chosen: list[tuple[int, int]] = []
        for span in ranked:
            if not any(crosses(span, other) for other in chosen):
                chosen.append(span)
        labels = label[row]
        decoded.append(
            sorted((first, last, int(labels[first, last])) for first, last in chosen)
        )
    return decoded


def nesting_layers(spans: list[tuple[int, int]]) -> list[int]:
    """Return each span's LitBank layer: 0 when it contains no other span.

    A span containing others sits one layer above the highest of them, as in
    LitBank's files, where the innermost mention is in the first column. The
    spans must not cross, which ``decode_spans`` ensures.
    """
    # Sorted by start, longest first, each span follows every span containing
    # it, so a stack of the open spans gives each one its innermost container.
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1]))
    container = [-1] * len(spans)
    open_spans: list[int] = []
    for index in order:
        first, last = spans[index]
        while open_spans and spans[open_spans[-1]][1] < last:
            open_spans.pop()
        if open_spans and spans[open_spans[-1]] != (first, last):
            container[index] = open_spans[-1]
        open_spans.append(index)
    layers = [0] * len(spans)
    # Containers come before what they contain, so a reversed pass reaches every
    # span's final layer before it raises its container's layer.
    for index in reversed(order):
        outer = container[index]
        if outer >= 0:
            layers[outer] = max(layers[outer], layers[index] + 1)
    return layers
