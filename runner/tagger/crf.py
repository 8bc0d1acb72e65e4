"""A linear-chain CRF over BIO labels, trained freely and decoded under BIO rules.

Tagging each word on its own breaks long LitBank mentions ("the mansion which
contained the lovely Charlotte Temple") into fragments, because every word of
the span must independently vote ``I-``. The CRF scores whole label sequences,
so one confident boundary carries the words between.

Training uses unconstrained transitions: a window cut inside a long sentence
can begin with ``I-``, and a hard rule would give such gold paths no
probability. Decoding adds the BIO rules (``I-X`` only after ``B-X`` or
``I-X``), so every decoded column is well formed.
"""

from __future__ import annotations

import torch
from torch import nn

# Added to the score of a transition that BIO forbids. Finite, so that a row in
# which every label is forbidden still decodes instead of producing NaN.
FORBIDDEN = -1e4


def bio_rules(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (transition penalty [from, to], start penalty [label])."""
    size = len(labels)
    transition = torch.zeros(size, size)
    start = torch.zeros(size)
    for to_index, to_label in enumerate(labels):
        prefix, _, category = to_label.partition("-")
        if prefix != "I":
            continue
        start[to_index] = FORBIDDEN
        for from_index, from_label in enumerate(labels):
            if from_label.partition("-")[2] != category or from_label == "O":
                transition[from_index, to_index] = FORBIDDEN
    return transition, start


class BioCrf(nn.Module):
    """Transition, start and end scores, shared by all sequences of a batch."""

    def __init__(self, labels: list[str]):
        super().__init__()
        size = len(labels)
        self.transitions = nn.Parameter(torch.zeros(size, size))
        self.start = nn.Parameter(torch.zeros(size))
        self.end = nn.Parameter(torch.zeros(size))
        transition_rule, start_rule = bio_rules(labels)
        # Not saved with the weights: the rules follow from the label list.
        self.register_buffer("transition_rule", transition_rule, persistent=False)
        self.register_buffer("start_rule", start_rule, persistent=False)

    def negative_log_likelihood(
        self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Return the summed NLL of the gold ``tags``.

        Args:
            emissions: [sequences, positions, labels] scores.
            tags: [sequences, positions] gold label ids (any value where masked).
            mask: [sequences, positions] bool, each row a run of True from 0.
                Every row needs at least one True.
        """
        tags = tags.clamp(min=0)
        return (self._partition(emissions, mask) - self._path_score(
            emissions, tags, mask
        )).sum()

    def _path_score(self, emissions, tags, mask) -> torch.Tensor:
        rows = torch.arange(emissions.shape[0], device=emissions.device)
        score = self.start[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
        for position in range(1, emissions.shape[1]):
            step = (
                self.transitions[tags[:, position - 1], tags[:, position]]
                + emissions[rows, position, tags[:, position]]
            )
            score = score + step * mask[:, position]
        last = mask.sum(1) - 1
        return score + self.end[tags[rows, last]]

    def _partition(self, emissions, mask) -> torch.Tensor:
        score = self.start + emissions[:, 0]
        for position in range(1, emissions.shape[1]):
            following = torch.logsumexp(
                score.unsqueeze(2)
                + self.transitions
                + emissions[:, position].unsqueeze(1),
                dim=1,
            )
            score = torch.where(mask[:, position : position + 1], following, score)
        return torch.logsumexp(score + self.end, dim=1)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Return the best BIO-valid label ids of each row, unpadded (Viterbi)."""
        transitions = self.transitions + self.transition_rule
        score = self.start + self.start_rule + emissions[:, 0]
        backpointers = []
        for position in range(1, emissions.shape[1]):
            candidates = score.unsqueeze(2) + transitions
            best, best_from = candidates.max(dim=1)
            following = best + emissions[:, position]
            active = mask[:, position : position + 1]
            score = torch.where(active, following, score)
            # A padded position points each label back to itself, so the
            # backtrace walks through padding unchanged.
            stay = torch.arange(score.shape[1], device=score.device).expand_as(best_from)
            backpointers.append(torch.where(active, best_from, stay))
        last = (score + self.end).argmax(dim=1)
        lengths = mask.sum(1).tolist()
        paths = [last]
        for pointers in reversed(backpointers):
            last = pointers.gather(1, last.unsqueeze(1)).squeeze(1)
            paths.append(last)
        columns = torch.stack(list(reversed(paths)), dim=1).tolist()
        return [row[:length] for row, length in zip(columns, lengths)]
