"""The check that keeps a misparsed noun phrase from being typed PRON."""

from __future__ import annotations

import pytest

from runner.engines.spacy_parse import _modifies_noun
from runner.engines.spacy_pipeline import load_pipeline


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()[0]


@pytest.mark.parametrize(
    ("text", "root", "end", "modified"),
    [
        # As if spaCy had rooted the phrase on its determiner.
        ("He sailed in that first adventurous little sloop.", 3, 7, True),
        ("Come here, my dear.", 3, 4, True),
        ("Those who knew him laughed.", 0, 3, False),
        ("Some of the men left.", 0, 3, False),
        ("She saw him.", 2, 2, False),
    ],
)
def test_pronoun_root_before_noun(
    nlp, text: str, root: int, end: int, modified: bool
) -> None:
    doc = nlp(text)
    assert _modifies_noun(doc, doc[root], end) is modified
