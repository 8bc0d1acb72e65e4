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
    """Shuffle the sorted ids with a fixed seed and cut off dev and test.

    Dev and test take a tenth of the documents each, at most ``DEV_SIZE`` and
    ``TEST_SIZE``, and dev takes at least one of two or more documents, so
    that a small corpus still leaves documents to train on.
    """
    shuffled = sorted(doc_ids)
    random.Random(seed).shuffle(shuffled)
    tenth = len(shuffled) // 10
    dev_size = min(DEV_SIZE, max(tenth, 1 if len(shuffled) > 1 else 0))
    test_size = min(TEST_SIZE, tenth)
    dev = sorted(shuffled[:dev_size])
    test = sorted(shuffled[dev_size : dev_size + test_size])
    train = sorted(shuffled[dev_size + test_size :])
    return {"train": train, "dev": dev, "test": test}


def read_split_file(path: Path) -> dict[str, list[str]]:
    """Read a split file: a JSON object of "train", "dev" and "test" id lists.

    Raises:
        ValueError: the file cannot be read or does not have that shape.
    """
    try:
        pinned = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"failed to read split file {path}: {error}") from error
    shaped = isinstance(pinned, dict) and all(
        isinstance(pinned.get(name), list) for name in ("train", "dev", "test")
    )
    if not shaped:
        raise ValueError(
            f"split file {path} must be a JSON object with \"train\", \"dev\" and "
            "\"test\" lists of document ids; fix it, or delete it to have a new "
            "one made"
        )
    return pinned


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
    pinned = read_split_file(path)
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
