"""Book-wide casing evidence and the names it trims, unit and end to end."""

from __future__ import annotations

import pathlib

import pytest

from runner.analysis.casing import CasingEvidence
from runner.analysis.entities import PER, NameCandidate, resolve_names
from runner.engine import Engine


def evidence(text: str) -> CasingEvidence:
    """Observe ``text``'s words; a word after ". " starts a sentence."""
    casing = CasingEvidence()
    starts = True
    for word in text.split():
        casing.observe(word.strip(".,"), starts)
        starts = word.endswith(".")
    return casing


def test_common_word_needs_lower_case_use() -> None:
    casing = evidence("Ere long he came. He left ere noon. Turkey sat.")
    assert casing.is_common_word("Ere")
    assert not casing.is_common_word("Turkey")


def test_name_capitalised_inside_stays_name() -> None:
    casing = evidence("Rose smiled. The sun rose. Then Rose left.")
    assert not casing.is_common_word("Rose")


def test_lower_case_word_is_not_common_capital() -> None:
    casing = evidence("Ere long he came. He left ere noon.")
    assert not casing.is_common_word("ere")
    assert not casing.is_common_word("1840")


def candidate(start: int, words: str, initial: bool) -> NameCandidate:
    parts = tuple(words.split())
    end = start + len(parts) - 1
    return NameCandidate(start, end, parts, PER, False, True, initial)


def test_resolve_names_trims_common_first_word() -> None:
    casing = evidence("He did so accordingly. Ere long he came, ere noon.")
    mentions = resolve_names(
        [
            candidate(0, "Accordingly Turkey", True),
            candidate(10, "Ere", True),
            candidate(20, "Turkey", True),
            candidate(30, "Accordingly Turkey", False),
        ],
        casing,
    )
    spans = [(m.start, m.end, " ".join(m.words)) for m in mentions]
    assert spans == [
        (1, 1, "Turkey"),
        (20, 20, "Turkey"),
        (30, 31, "Accordingly Turkey"),
    ]


def test_resolve_names_without_evidence_keeps_all() -> None:
    mentions = resolve_names([candidate(10, "Ere", True)])
    assert [m.words for m in mentions] == [("Ere",)]


BOOK = (
    "Ere long the clerk came in. He sat at the desk ere noon.\n\n"
    "Accordingly Turkey rose. The clerk did accordingly what Turkey asked.\n\n"
    '"Go home," said Turkey. Then Turkey left, and he went home.\n'
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    from runner.engines.spacy_engine import create_engine

    return create_engine()


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_book_has_no_common_word_names(
    engine: Engine, tmp_path: pathlib.Path, model: str
) -> None:
    from tests.test_spacy_engine import run_job

    result, _, _ = run_job(engine, tmp_path, BOOK.encode(), model=model)
    names = {name for c in result["characters"] for name in c["names"]}
    assert "Turkey" in names
    assert "Ere" not in names
    assert "Accordingly Turkey" not in names
