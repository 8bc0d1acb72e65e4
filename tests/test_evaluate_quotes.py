"""LitBank quotation reading, quote and speaker metrics, scripts/evaluate_quotes.py."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner.tagger.litbank_quotes import (
    GoldQuote,
    QuoteDocument,
    read_chains,
    read_quote_document,
    speaker_chains,
)
from runner.tagger.pronoun_metrics import pronoun_counts
from runner.tagger.quote_metrics import (
    PredictedQuote,
    character_chains,
    quote_counts,
    speaker_counts,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(__file__).resolve().parent / "data" / "litbank_sample"
SCRIPT = REPO_ROOT / "scripts" / "evaluate_quotes.py"


def load_script():
    spec = importlib.util.spec_from_file_location("evaluate_quotes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conll(rows: list[tuple[str, str]]) -> str:
    """CoNLL lines for (token, chain column) pairs; "" starts a new sentence."""
    lines = ["#begin document (doc); part 0"]
    for position, (token, chains) in enumerate(rows):
        if not token:
            lines.append("")
            continue
        lines.append("\t".join(["doc", "0", str(position), token, *"_" * 8, chains]))
    return "\n".join(lines) + "\n"


def test_read_chains_nested_and_single(tmp_path: Path) -> None:
    path = tmp_path / "doc.conll"
    path.write_text(
        conll([("Mrs.", "(0"), ("Lennox", "0)"), ("saw", ""), ("her", "(1)|(2"),
               ("maid", "2)"), ("", ""), ("She", "(0)")])
    )
    tokens, chains = read_chains(path)
    assert tokens == ["Mrs.", "Lennox", "saw", "her", "maid", "She"]
    assert chains == {0: [(0, 1), (5, 5)], 1: [(3, 3)], 2: [(3, 4)]}


def test_read_chains_rejects_unopened_chain(tmp_path: Path) -> None:
    path = tmp_path / "doc.conll"
    path.write_text(conll([("Tom", "3)")]))
    with pytest.raises(ValueError, match="closes chain 3, never opened"):
        read_chains(path)


def write_document(root: Path) -> None:
    (root / "quotations").mkdir(parents=True)
    (root / "coref").mkdir()
    (root / "quotations" / "doc.txt").write_text(
        "Mrs. Lennox looked up .\n“ Go , ” said she .\n“ Now ! ”\n"
    )
    (root / "quotations" / "doc.tsv").write_text(
        "QUOTE\tQ1\t1\t0\t1\t3\t“ Go , ”\nQUOTE\tQ2\t2\t0\t2\t3\t“ Now ! ”\n"
        "ATTRIB\tQ1\tMRS__LENNOX-7\n"
    )
    rows = [("Mrs.", "(4"), ("Lennox", "4)"), ("looked", ""), ("up", ""), (".", ""),
            ("", ""), ("“", ""), ("Go", ""), (",", ""), ("”", ""), ("said", ""),
            ("she", "(4)"), (".", ""), ("", ""), ("“", ""), ("Now", ""), ("!", ""),
            ("”", "")]
    (root / "coref" / "doc.conll").write_text(conll(rows))


def test_read_quote_document_offsets_and_speaker(tmp_path: Path) -> None:
    write_document(tmp_path)
    document = read_quote_document(tmp_path, "doc")
    assert document.quotes == [
        GoldQuote("Q1", 5, 8, "MRS__LENNOX-7"),
        GoldQuote("Q2", 12, 15, None),
    ]
    assert document.tokens[5:9] == ["“", "Go", ",", "”"]
    # The speaker's number (7) is not its chain (4): the text decides.
    assert speaker_chains(document, "MRS__LENNOX-7") == {4}
    assert speaker_chains(document, "Tom-4") == set()


def test_narrator_names_first_person_chain() -> None:
    tokens = ["I", "told", "him", ".", "My", "dog", "and", "I", "ran", "."]
    chains = {0: [(0, 0), (4, 4), (7, 7)], 1: [(2, 2)], 2: [(4, 5)]}
    document = QuoteDocument("doc", [tokens], [], chains)
    assert speaker_chains(document, "narrator-0") == {0}
    assert speaker_chains(document, "I-3") == {0}


def test_character_chains_majority_of_exact_spans() -> None:
    chains = {0: [(0, 1), (5, 5), (9, 9)], 1: [(3, 3), (7, 7)]}
    mentions = [
        (10, 0, 1), (10, 5, 5), (10, 3, 3),  # two of three in chain 0
        (11, 7, 7), (11, 9, 9),  # a tie goes to the lower chain id
        (12, 0, 0),  # no gold mention has this span
    ]
    assert character_chains(mentions, chains) == {10: 0, 11: 0}


def test_quote_counts_exact_spans() -> None:
    gold = [GoldQuote("Q1", 5, 8, None), GoldQuote("Q2", 12, 15, None)]
    predicted = [PredictedQuote(5, 8, None), PredictedQuote(12, 14, None)]
    counts = quote_counts(predicted, gold)
    assert (counts.true_positives, counts.predicted, counts.gold) == (1, 2, 2)


def test_speaker_counts_hand_computed() -> None:
    gold = [
        GoldQuote("Q1", 0, 4, "Ann-1"),  # right speaker
        GoldQuote("Q2", 10, 14, "Ann-1"),  # wrong speaker
        GoldQuote("Q3", 20, 24, "Ann-1"),  # no speaker given
        GoldQuote("Q4", 30, 34, "Bob-2"),  # names no chain
        GoldQuote("Q5", 40, 44, "Ann-1"),  # no predicted quote overlaps
        GoldQuote("Q6", 50, 54, None),  # not attributed in the gold
    ]
    predicted = [
        PredictedQuote(0, 2, 7),  # overlaps Q1 by 3 tokens ...
        PredictedQuote(3, 9, 8),  # ... more than this one (2 tokens)
        PredictedQuote(10, 14, 8),
        PredictedQuote(20, 24, None),
        PredictedQuote(30, 34, 7),
    ]
    chains = {"Ann-1": {1}, "Bob-2": set()}
    result = speaker_counts(predicted, gold, {7: 1, 8: 5}, chains.__getitem__)
    counts = result.counts
    assert (counts.true_positives, counts.predicted, counts.gold) == (1, 2, 3)
    assert (result.unresolved, result.unmatched) == (1, 1)


def test_pronoun_counts_hand_computed() -> None:
    tokens = ["Mrs.", "Lennox", "saw", "the", "groom", ".", "She", "smiled", "at",
              "him", "and", "he", "left", ".", "He", "ran", "to", "her"]
    chains = {
        0: [(0, 1), (6, 6), (17, 17)],  # Mrs. Lennox, She, her
        1: [(3, 4), (9, 9), (11, 11)],  # the groom, him, he
        2: [(14, 14)],  # only a pronoun: not scored
    }
    mentions = [
        (7, 0, 1), (7, 6, 6),  # right
        (8, 3, 4), (7, 9, 9),  # "him" given Mrs. Lennox: wrong
        # "he" (11) has no mention with a character: missed
        (8, 14, 14),  # in a chain that is not scored
        # Were pronouns to vote, the groom's character would tie between
        # chains 0, 1 and 2, and the tie would go to chain 0 and make "her"
        # right. They do not vote, so it stands for chain 1: "her" is wrong.
        (8, 17, 17),
    ]
    counts = pronoun_counts(mentions, chains, tokens)
    assert counts.gold == 4
    assert counts.predicted == 3
    assert counts.true_positives == 1


def test_rebuild_text_offsets_and_paragraphs() -> None:
    rebuild_text = load_script().rebuild_text
    sentences = [
        ["Mrs.", "Lennox", "did", "n't", "look", "up", "."],
        ["“", "Go", ",", "”", "said", "she", "."],
        ["“", "Now", "!", "”"],
        ["cried", "the", "girl", "."],
        ['"', "Wait", ',', '"', "he", "said", "."],
    ]
    text, starts, ends = rebuild_text(sentences)
    tokens = [token for sentence in sentences for token in sentence]
    assert [text[a:b] for a, b in zip(starts, ends)] == tokens
    assert text.split("\n\n") == [
        "Mrs. Lennox didn't look up.",
        "“Go,” said she.",
        "“Now!” cried the girl.",
        '"Wait," he said.',
    ]


def test_script_scores_sample(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--litbank", str(SAMPLE)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    scores = json.loads(lines[-1])
    assert set(scores) == {"quotes", "speakers", "pronouns"}
    assert set(scores["pronouns"]) == {"precision", "recall", "f1"}
    assert set(scores["quotes"]) == {"precision", "recall", "f1"}
    # Bartleby's four quotes use straight marks; all are found.
    assert scores["quotes"]["recall"] == 100.0
    assert lines[0].startswith("1 documents, 4 gold quotes")


def test_script_names_missing_folder(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--litbank", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert completed.returncode != 0
    assert f"{tmp_path} has no quotations folder" in completed.stderr
