"""Entity and event metrics, LitBank reading and writing, and scripts/evaluate.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner.tagger import litbank
from runner.tagger.litbank import Document, EntitySpan
from runner.tagger.metrics import (
    Counts,
    bootstrap_f1_interval,
    document_counts,
    pooled,
    score_documents,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(__file__).resolve().parent / "data" / "litbank_sample"
SENTENCES = [["Mr.", "Pett", "went", "to", "the", "house", "of", "Mr.", "Pett", "."]]


def make_document(spans=(), events=(), doc_id="doc") -> Document:
    entities = [EntitySpan(*span) for span in spans]
    return Document(doc_id, SENTENCES, entities, list(events))


def test_counts_hand_computed() -> None:
    counts = Counts()
    counts.add(predicted=[1, 2, 3, 4], gold=[2, 3, 5])
    scores = counts.scores()
    assert scores["precision"] == pytest.approx(50.0)
    assert scores["recall"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(2 * 50 * (200 / 3) / (50 + 200 / 3))


def test_nested_spans_scored_separately() -> None:
    # Gold: "Mr." (layer 0) inside "Mr. Pett" (layer 1), and "the house of Mr. Pett"
    # (layer 2). The prediction finds only the outer two.
    gold = make_document([(0, 0, "PER", 0), (0, 1, "PER", 1), (4, 8, "FAC", 2)])
    predicted = make_document([(0, 1, "PER", 0), (4, 8, "FAC", 0)])
    scores = score_documents([predicted], [gold])["entities"]
    assert scores["precision"] == pytest.approx(100.0)
    assert scores["recall"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(80.0)


def test_category_must_match() -> None:
    gold = make_document([(4, 8, "FAC", 0)])
    predicted = make_document([(4, 8, "LOC", 0)])
    scores = score_documents([predicted], [gold])["entities"]
    assert scores["precision"] == 0.0
    assert scores["recall"] == 0.0
    assert scores["f1"] == 0.0


def test_span_boundaries_must_match() -> None:
    gold = make_document([(4, 8, "FAC", 0)])
    predicted = make_document([(5, 8, "FAC", 0), (4, 9, "FAC", 1)])
    scores = score_documents([predicted], [gold])["entities"]
    assert scores["precision"] == 0.0
    assert scores["recall"] == 0.0


def test_empty_predictions_score_zero() -> None:
    gold = make_document([(0, 1, "PER", 0)], events=[2])
    scores = score_documents([make_document()], [gold])
    for task in ("entities", "events"):
        assert scores[task] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_empty_gold_and_predictions_score_zero() -> None:
    scores = score_documents([make_document()], [make_document()])
    assert scores["entities"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_duplicate_predictions_count_once() -> None:
    # The same span predicted in two layers, and an event listed twice.
    gold = make_document([(0, 1, "PER", 0), (7, 8, "PER", 0)], events=[2, 5])
    predicted = make_document([(0, 1, "PER", 0), (0, 1, "PER", 3)], events=[2, 2])
    scores = score_documents([predicted], [gold])
    assert scores["entities"]["precision"] == pytest.approx(100.0)
    assert scores["entities"]["recall"] == pytest.approx(50.0)
    assert scores["events"]["precision"] == pytest.approx(100.0)
    assert scores["events"]["recall"] == pytest.approx(50.0)


def test_layers_are_pooled() -> None:
    gold = make_document([(0, 1, "PER", 1)])
    predicted = make_document([(0, 1, "PER", 0)])
    assert score_documents([predicted], [gold])["entities"]["f1"] == 100.0


def test_events_match_by_token() -> None:
    gold = make_document(events=[2, 5, 9])
    predicted = make_document(events=[2, 3])
    scores = score_documents([predicted], [gold])["events"]
    assert scores["precision"] == pytest.approx(50.0)
    assert scores["recall"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(40.0)


def test_same_offsets_in_two_documents_differ() -> None:
    gold = [make_document(events=[2], doc_id="a"), make_document(doc_id="b")]
    predicted = [make_document(doc_id="a"), make_document(events=[2], doc_id="b")]
    scores = score_documents(predicted, gold)["events"]
    assert scores["precision"] == 0.0
    assert scores["recall"] == 0.0


def test_missing_prediction_counts_as_empty() -> None:
    gold = [
        make_document(events=[2], doc_id="a"),
        make_document(events=[3], doc_id="b"),
    ]
    scores = score_documents([make_document(events=[2], doc_id="a")], gold)["events"]
    assert scores["precision"] == pytest.approx(100.0)
    assert scores["recall"] == pytest.approx(50.0)


def test_document_counts_pool_to_the_overall_score() -> None:
    gold = [
        make_document([(0, 1, "PER", 0), (4, 8, "FAC", 0)], doc_id="a"),
        make_document([(7, 8, "PER", 0)], doc_id="b"),
    ]
    predicted = [
        make_document([(0, 1, "PER", 0)], doc_id="a"),
        make_document([(7, 8, "PER", 0), (4, 5, "FAC", 0)], doc_id="b"),
    ]
    rows = document_counts(predicted, gold)
    assert [row["entities"].true_positives for row in rows] == [1, 1]
    assert [row["entities"].gold for row in rows] == [2, 1]
    overall = score_documents(predicted, gold)["entities"]
    assert pooled(rows, "entities").scores() == overall


def test_bootstrap_interval_spans_document_spread() -> None:
    perfect = make_document([(0, 1, "PER", 0)], doc_id="good")
    wrong = make_document([(4, 8, "FAC", 0)], doc_id="bad")
    gold = [make_document([(0, 1, "PER", 0)], doc_id=d) for d in ("good", "bad")]
    rows = document_counts([perfect, wrong], gold)
    low, high = bootstrap_f1_interval(rows, "entities")
    overall = score_documents([perfect, wrong], gold)["entities"]["f1"]
    assert low < overall < high
    assert (low, high) == (0.0, 100.0)
    assert bootstrap_f1_interval(rows, "entities") == (low, high)  # seeded
    same = document_counts([perfect, perfect], [gold[0], gold[0]])
    assert bootstrap_f1_interval(same, "entities") == (100.0, 100.0)


def test_unknown_predicted_document_rejected() -> None:
    with pytest.raises(ValueError, match="'extra'"):
        score_documents([make_document(doc_id="extra")], [make_document()])


@pytest.mark.parametrize(
    ("labels", "spans"),
    [
        (["B-PER", "I-PER", "O"], [(0, 1, "PER")]),
        (["B-PER", "B-PER"], [(0, 0, "PER"), (1, 1, "PER")]),
        (["I-LOC", "I-LOC", "O", "I-FAC"], [(0, 1, "LOC"), (3, 3, "FAC")]),
        (["B-PER", "I-LOC"], [(0, 0, "PER"), (1, 1, "LOC")]),
        (["O", "B-GPE"], [(1, 1, "GPE")]),
        ([], []),
    ],
)
def test_spans_from_bio(labels: list[str], spans: list[tuple]) -> None:
    assert litbank.spans_from_bio(labels) == spans


@pytest.mark.parametrize(
    ("tokens", "kind"),
    [
        (["Mr.", "Peter", "Pett"], "PROP"),
        (["the", "house", "of", "Mr.", "Pett"], "NOM"),
        (["the", "Duke", "of", "Omnium"], "PROP"),
        (["a", "red-haired", "girl"], "NOM"),
        (["himself"], "PRON"),
        (["I"], "PRON"),
    ],
)
def test_mention_kind(tokens: list[str], kind: str) -> None:
    assert litbank.mention_kind(tokens) == kind


def test_sample_reads_nested_layers() -> None:
    document = litbank.read_document(SAMPLE, "2005_piccadilly_jim")
    words = {
        (" ".join(document.tokens[span.start : span.end + 1]), span.layer)
        for span in document.entities
    }
    assert ("Mr.", 0) in words
    assert ("Mr. Peter Pett", 1) in words
    assert any(layer == 2 for _, layer in words)


def test_sample_round_trip(tmp_path: Path) -> None:
    for doc_id in litbank.list_documents(SAMPLE):
        original = litbank.read_document(SAMPLE, doc_id)
        litbank.write_entities(original, tmp_path / "entities" / f"{doc_id}.tsv")
        litbank.write_events(original, tmp_path / "events" / f"{doc_id}.tsv")
        copy = litbank.read_document(tmp_path, doc_id)
        assert copy.sentences == original.sentences
        assert copy.entities == original.entities
        assert copy.events == original.events


def test_writer_matches_source_columns(tmp_path: Path) -> None:
    # The writer emits the token and four layers; the source may add an empty
    # fifth layer and a trailing tab.
    for doc_id in litbank.list_documents(SAMPLE):
        document = litbank.read_document(SAMPLE, doc_id)
        for folder, write in (
            ("entities", litbank.write_entities),
            ("events", litbank.write_events),
        ):
            written = tmp_path / folder / f"{doc_id}.tsv"
            write(document, written)
            source_lines = (SAMPLE / folder / f"{doc_id}.tsv").read_text().splitlines()
            written_lines = written.read_text().splitlines()
            width = 1 + (litbank.MAX_LAYERS if folder == "entities" else 1)
            expected = ["\t".join(line.split("\t")[:width]) for line in source_lines]
            assert written_lines == expected


def test_event_tokens_must_match_entities(tmp_path: Path) -> None:
    doc_id = "1023_bleak_house"
    for folder in ("entities", "events"):
        (tmp_path / folder).mkdir()
        text = (SAMPLE / folder / f"{doc_id}.tsv").read_text()
        if folder == "events":
            text = text.replace("Chancery", "Chancellery", 1)
        (tmp_path / folder / f"{doc_id}.tsv").write_text(text)
    with pytest.raises(ValueError, match="differ"):
        litbank.read_document(tmp_path, doc_id)


def test_evaluate_script_scores_predictions(tmp_path: Path) -> None:
    # Predictions that drop every event of the gold sample.
    for doc_id in litbank.list_documents(SAMPLE):
        document = litbank.read_document(SAMPLE, doc_id)
        document.events = []
        litbank.write_entities(document, tmp_path / "entities" / f"{doc_id}.tsv")
        litbank.write_events(document, tmp_path / "events" / f"{doc_id}.tsv")
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "evaluate.py"),
            "--litbank",
            str(SAMPLE),
            "--score-only",
            str(tmp_path),
            "--interval",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = completed.stdout.strip().splitlines()
    assert "entities F1 95% interval over resampled documents: 100.0 to 100.0" in lines
    assert lines[-4].split() == ["task", "precision", "recall", "f1"]
    assert lines[-3].split() == ["entities", "100.00", "100.00", "100.00"]
    assert lines[-2].split() == ["events", "0.00", "0.00", "0.00"]
    scores = json.loads(lines[-1])
    assert scores["entities"] == {
        "precision": 100.0, "recall": 100.0, "f1": 100.0, "f1_low": 100.0,
        "f1_high": 100.0,
    }  # fmt: skip
    assert scores["events"]["f1"] == 0.0
    assert scores["events"]["f1_high"] == 0.0


def test_missing_event_file_not_scored(tmp_path: Path) -> None:
    gold = copy_sample(tmp_path / "gold")
    doc_ids = litbank.list_documents(gold)
    assert len(doc_ids) >= 2
    (gold / "events" / f"{doc_ids[0]}.tsv").unlink()
    # Perfect predictions of the other documents' events, and an event on every
    # token of the document whose event file is gone.
    predicted_dir = tmp_path / "predicted"
    for doc_id in doc_ids:
        document = litbank.read_document(gold, doc_id)
        if doc_id == doc_ids[0]:
            document.events = list(range(len(document.tokens)))
        litbank.write_entities(document, predicted_dir / "entities" / f"{doc_id}.tsv")
        litbank.write_events(document, predicted_dir / "events" / f"{doc_id}.tsv")
    completed = run_script(
        "evaluate.py", "--litbank", str(gold), "--score-only", str(predicted_dir)
    )
    assert completed.returncode == 0, completed.stderr
    assert f"no event file for {doc_ids[0]}" in completed.stderr
    scores = json.loads(completed.stdout.strip().splitlines()[-1])
    assert scores["events"]["precision"] == 100.0
    assert scores["events"]["recall"] == 100.0


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
    )


def copy_sample(target: Path) -> Path:
    import shutil

    shutil.copytree(SAMPLE, target)
    return target


def test_predictions_inside_gold_rejected(tmp_path: Path) -> None:
    gold = copy_sample(tmp_path / "gold")
    before = sorted(p.read_text() for p in (gold / "entities").iterdir())
    completed = run_script(
        "evaluate.py", "--litbank", str(gold), "--score-only", str(gold),
        "--predictions", str(gold / "entities" / ".."),
    )  # fmt: skip
    assert completed.returncode != 0
    assert "would overwrite gold files" in completed.stderr
    assert sorted(p.read_text() for p in (gold / "entities").iterdir()) == before


def test_score_only_shifted_tokens_rejected(tmp_path: Path) -> None:
    predicted = copy_sample(tmp_path / "predicted")
    for folder in ("entities", "events"):
        path = predicted / folder / "2005_piccadilly_jim.tsv"
        path.write_text("Extra\tO\n" + path.read_text())
    completed = run_script(
        "evaluate.py", "--litbank", str(SAMPLE), "--score-only", str(predicted)
    )
    assert completed.returncode != 0
    assert "2005_piccadilly_jim" in completed.stderr
    assert "differ from the gold tokens" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_score_only_missing_document_scores_empty(tmp_path: Path) -> None:
    predicted = copy_sample(tmp_path / "predicted")
    (predicted / "entities" / "2005_piccadilly_jim.tsv").unlink()
    completed = run_script(
        "evaluate.py", "--litbank", str(SAMPLE), "--score-only", str(predicted)
    )
    assert completed.returncode == 0
    assert "no prediction for 2005_piccadilly_jim" in completed.stderr
    scores = json.loads(completed.stdout.strip().splitlines()[-1])
    assert scores["entities"]["precision"] == 100.0
    assert scores["entities"]["recall"] < 100.0


@pytest.mark.parametrize(
    ("row", "message"),
    [("Pett\tB-FOO\n", "entity label 'B-FOO'"), ("Pett\tb-per\n", "'b-per'")],
)
def test_unknown_entity_label_named(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "entities" / "doc.tsv"
    path.parent.mkdir()
    path.write_text("Mr.\tO\n" + row)
    with pytest.raises(ValueError, match=message) as raised:
        litbank.read_entities(path)
    assert "token 2" in str(raised.value)
    assert str(path) in str(raised.value)


def test_latin1_file_named(tmp_path: Path) -> None:
    path = tmp_path / "doc.tsv"
    path.write_bytes("Caf\u00e9\tO\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not valid UTF-8"):
        litbank.read_entities(path)


def test_byte_order_mark_not_in_first_token(tmp_path: Path) -> None:
    path = tmp_path / "doc.tsv"
    path.write_text("\ufeffMr.\tB-PER\nPett\tI-PER\n", encoding="utf-8")
    assert litbank.read_entities(path).tokens == ["Mr.", "Pett"]


def test_training_needs_out_folder(tmp_path: Path) -> None:
    completed = run_script("train_tagger.py", "--litbank", str(SAMPLE))
    assert completed.returncode == 2
    assert "--out" in completed.stderr


def test_training_without_dev_documents_exits(tmp_path: Path) -> None:
    split = tmp_path / "split.json"
    ids = litbank.list_documents(SAMPLE)
    split.write_text(json.dumps({"train": ids, "dev": [], "test": []}))
    completed = run_script(
        "train_tagger.py", "--litbank", str(SAMPLE), "--split-file", str(split),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert completed.returncode != 0
    assert "leaves no dev documents" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "out").exists()


def test_training_rejects_window_past_encoder(tmp_path: Path) -> None:
    completed = run_script(
        "train_tagger.py", "--litbank", str(SAMPLE), "--max-subwords", "1000",
        "--split-file", str(tmp_path / "split.json"), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert completed.returncode != 0
    assert "exceeds the base encoder's 512 positions" in completed.stderr
