"""The clause check that drops tagger spans running past their noun phrase."""

from __future__ import annotations

import pytest

from runner.engines.chunk_tagging import runs_into_clause
from runner.engines.spacy_pipeline import load_pipeline


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()[0]


def _span(nlp, text: str, phrase: str):
    doc = nlp(text)
    span = doc.char_span(text.index(phrase), text.index(phrase) + len(phrase))
    assert span is not None, phrase
    return span


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (
            "The old woman who kept the gate laughed at him.",
            "The old woman who kept the gate laughed at him",
        ),
        (
            "He was carried on the steamer into a great railway depot, and "
            "finally he was deposited in an express car.",
            "the steamer into a great railway depot, and finally he was deposited "
            "in an express car",
        ),
    ],
)
def test_clause_spans_run_on(nlp, text: str, phrase: str) -> None:
    assert runs_into_clause(_span(nlp, text, phrase))


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (
            "The old woman who kept the gate laughed at him.",
            "The old woman who kept the gate",
        ),
        ("Her sister walked into the old kitchen.", "the old kitchen"),
        ("Those who knew him stayed away.", "Those who knew him"),
    ],
)
def test_noun_phrases_do_not_run_on(nlp, text: str, phrase: str) -> None:
    assert not runs_into_clause(_span(nlp, text, phrase))
