"""Exact-match precision, recall and F1 for entity spans and event tokens.

Entities match when start, end and category are equal. Layers are pooled, so a
span predicted in another BIO column still counts. Events match by token offset.
Each document's items form a set, so duplicates count once.
"""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Hashable, Iterable, Sequence

from runner.tagger.litbank import Document


@dataclasses.dataclass
class Counts:
    """True positives and the sizes of the predicted and gold sets."""

    true_positives: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, predicted: Iterable[Hashable], gold: Iterable[Hashable]) -> None:
        predicted_set, gold_set = set(predicted), set(gold)
        self.true_positives += len(predicted_set & gold_set)
        self.predicted += len(predicted_set)
        self.gold += len(gold_set)

    def scores(self) -> dict[str, float]:
        """Return precision, recall and F1 as percentages (0 when undefined)."""
        precision = _ratio(self.true_positives, self.predicted)
        recall = _ratio(self.true_positives, self.gold)
        f1 = 0.0
        if precision + recall > 0:
            f1 = 2 * precision * recall / (precision + recall)
        return {"precision": precision, "recall": recall, "f1": f1}


def score_report(scores: dict[str, dict[str, float]], tasks: Sequence[str]) -> str:
    """Return a table of precision, recall and F1 per task, then the same as JSON.

    The JSON line is keyed by task, with the three figures as percentages
    rounded to two decimals.
    """
    lines = [f"{'task':<10}{'precision':>10}{'recall':>10}{'f1':>10}"]
    for task in tasks:
        row = scores[task]
        lines.append(
            f"{task:<10}{row['precision']:>10.2f}{row['recall']:>10.2f}"
            f"{row['f1']:>10.2f}"
        )
    rounded = {
        task: {name: round(value, 2) for name, value in scores[task].items()}
        for task in tasks
    }
    lines.append(json.dumps(rounded))
    return "\n".join(lines)


def _ratio(numerator: int, denominator: int) -> float:
    return 100.0 * numerator / denominator if denominator else 0.0


def entity_keys(document: Document) -> set[tuple[str, int, int, str]]:
    """Return the (doc id, start, end, category) keys of a document's entities."""
    return {
        (document.doc_id, span.start, span.end, span.category)
        for span in document.entities
    }


def event_keys(document: Document) -> set[tuple[str, int]]:
    """Return the (doc id, token offset) keys of a document's events."""
    return {(document.doc_id, offset) for offset in document.events}


def document_counts(
    predicted: list[Document], gold: list[Document]
) -> list[dict[str, Counts]]:
    """Return each gold document's counts, keyed by task, in gold order.

    A gold document without a prediction counts as an empty prediction. One
    without event annotations adds nothing to the event counts.

    Raises:
        ValueError: a predicted document has no gold document with its id.
    """
    predicted_by_id = {document.doc_id: document for document in predicted}
    gold_ids = {document.doc_id for document in gold}
    unknown = sorted(set(predicted_by_id) - gold_ids)
    if unknown:
        raise ValueError(f"no gold document with id {unknown[0]!r}")
    rows = []
    for reference in gold:
        document = predicted_by_id.get(reference.doc_id)
        if document is None:
            document = Document(reference.doc_id, reference.sentences)
        entities, events = Counts(), Counts()
        entities.add(entity_keys(document), entity_keys(reference))
        if reference.events_annotated:
            events.add(event_keys(document), event_keys(reference))
        rows.append({"entities": entities, "events": events})
    return rows


def pooled(rows: list[dict[str, Counts]], task: str) -> Counts:
    """Sum one task's counts over documents (micro-averaging)."""
    total = Counts()
    for row in rows:
        total.true_positives += row[task].true_positives
        total.predicted += row[task].predicted
        total.gold += row[task].gold
    return total


def score_documents(
    predicted: list[Document], gold: list[Document]
) -> dict[str, dict[str, float]]:
    """Score predicted documents against gold ones, matched by doc id.

    Returns percentages keyed by task (``entities``, ``events``), with counts
    pooled over documents. Raises ValueError as ``document_counts`` does.
    """
    rows = document_counts(predicted, gold)
    return {task: pooled(rows, task).scores() for task in ("entities", "events")}


def bootstrap_f1_interval(
    rows: list[dict[str, Counts]],
    task: str,
    samples: int = 2000,
    seed: int = 13,
) -> tuple[float, float]:
    """Return the 2.5th and 97.5th percentiles of F1 over resampled documents.

    LitBank's documents differ a lot from each other, so the spread of F1 over
    documents drawn again with replacement shows how precise a score on a few
    documents is.
    """
    rng = random.Random(seed)
    scores = sorted(
        pooled([rng.choice(rows) for _ in rows], task).scores()["f1"]
        for _ in range(samples)
    )
    return scores[int(0.025 * samples)], scores[int(0.975 * samples) - 1]
