"""Pronoun antecedents beyond the two-sentence reach, through the spaCy engine.

Each text is built so that the old rule (nearest candidate within two
sentences, in the same or the previous paragraph) gives the pronoun no
character or the wrong one.
"""

from __future__ import annotations

import pytest

from runner.engine import Engine
from runner.engines.spacy_engine import create_engine
from tests.test_spacy_engine import run_job

COMPONENTS = ("tokens", "entities", "quotes", "characters")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


def _entities(engine: Engine, tmp_path, text: str) -> list[dict]:
    result, _messages, _stats = run_job(
        engine, tmp_path, text.encode(), COMPONENTS, model="litbank"
    )
    return result["entities"]


def _character_of(rows: list[dict], text: str) -> int | None:
    found = {row["character_id"] for row in rows if row["text"] == text}
    assert len(found) == 1, (text, found)
    return found.pop()


def test_pronoun_run_keeps_person(engine: Engine, tmp_path) -> None:
    # The third and fifth sentences' "She" are more than two sentences
    # after the name, but each is within reach of the "She" before it.
    text = (
        "Zephyrine Vance walked to the window. She opened it. The air was "
        "cold. She shivered. The trees dripped. She closed it again.\n"
    )
    rows = _entities(engine, tmp_path, text)
    zephyrine = _character_of(rows, "Zephyrine Vance")
    assert zephyrine is not None
    she = [row["character_id"] for row in rows if row["text"] == "She"]
    assert len(she) == 3
    assert she == [zephyrine] * 3


def test_pronoun_after_paragraphs(engine: Engine, tmp_path) -> None:
    text = (
        "Mr. Thornton came into the mill.\n\n"
        "The looms were loud. The air was full of cotton. Nobody looked up.\n\n"
        "He walked to the office.\n"
    )
    rows = _entities(engine, tmp_path, text)
    thornton = _character_of(rows, "Mr. Thornton")
    assert thornton is not None
    assert _character_of(rows, "He") == thornton


def test_known_gender_beats_nearer(engine: Engine, tmp_path) -> None:
    # "Zephyrine" has no known gender, so the nearer name must not take "He"
    # from the man named "Mr.".
    text = "Mr. Thornton looked at Zephyrine for a long time. He smiled.\n"
    rows = _entities(engine, tmp_path, text)
    thornton = _character_of(rows, "Mr. Thornton")
    assert thornton is not None
    assert _character_of(rows, "He") == thornton


def test_possessor_not_antecedent(engine: Engine, tmp_path) -> None:
    # "he" means the father. Passing over "Caddy's old father", which has no
    # character, must not hand "he" to the "Caddy" inside it.
    text = (
        "Caddy sat with Esther by the fire. Caddy's old father came in, and "
        "he wept.\n"
    )
    rows = _entities(engine, tmp_path, text)
    caddy = {row["character_id"] for row in rows if row["text"] == "Caddy"}
    assert caddy - {None}
    assert _character_of(rows, "he") not in caddy


def test_heading_stops_reach(engine: Engine, tmp_path) -> None:
    # Within four paragraphs, but in another chapter.
    text = (
        "Mrs. Dale walked home.\n\nCHAPTER II\n\n"
        "She had not slept. The morning was grey.\n"
    )
    rows = _entities(engine, tmp_path, text)
    assert _character_of(rows, "Mrs. Dale") is not None
    assert _character_of(rows, "She") is None
