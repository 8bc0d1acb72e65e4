"""The pinned document-level train/dev/test split of LitBank."""

from __future__ import annotations

import json
import random
from pathlib import Path

SPLIT_FILE = Path(__file__).resolve().parent / "split.json"
SPLIT_SEED = 13
# Of the 80 published documents: 64 train, 8 dev (model selection), 8 test.
DEV_SIZE = 8
TEST_SIZE = 8


def make_split(doc_ids: list[str], seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """Shuffle the sorted ids with a fixed seed and cut off dev and test."""
    shuffled = sorted(doc_ids)
    random.Random(seed).shuffle(shuffled)
    dev = sorted(shuffled[:DEV_SIZE])
    test = sorted(shuffled[DEV_SIZE : DEV_SIZE + TEST_SIZE])
    train = sorted(shuffled[DEV_SIZE + TEST_SIZE :])
    return {"train": train, "dev": dev, "test": test}


def load_or_create_split(
    doc_ids: list[str], path: Path = SPLIT_FILE
) -> dict[str, list[str]]:
    """Return the split pinned in ``path``, restricted to ``doc_ids``.

    A missing ``path`` is created from ``doc_ids``. Ids that the file does not
    list join train. When the file lists none of ``doc_ids`` (another corpus in
    LitBank layout), they are split afresh with ``make_split`` and nothing is
    written.
    """
    if not path.exists():
        path.write_text(json.dumps(make_split(doc_ids), indent=2) + "\n")
    pinned = json.loads(path.read_text(encoding="utf-8"))
    listed = {doc_id for ids in pinned.values() for doc_id in ids}
    if not listed & set(doc_ids):
        return make_split(doc_ids)
    available = set(doc_ids)
    split = {
        name: [doc_id for doc_id in ids if doc_id in available]
        for name, ids in pinned.items()
    }
    split["train"] = sorted(split["train"] + sorted(available - listed))
    return split
