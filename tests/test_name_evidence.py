"""Names that spaCy or the tagger misread, and characters that their context settles.

Each text is a short scene written for the test, modelled on a fault found in
Middlemarch: Will Ladislaw's "Will" read as a modal verb, "the Vicar" apart
from Mr. Farebrother, the town Brassing taken for a man, a father merged with
his son, and a husband's bare surname given to his wife.
"""

from __future__ import annotations

from typing import Any

import pytest

from runner.engine import Engine
from runner.engines.spacy_engine import create_engine
from tests.test_speakers import analyse, quote_starting


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


def names_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {character["name"]: character for character in result["characters"]}


def categories(result: dict[str, Any], text: str) -> set[str]:
    return {e["category"] for e in result["entities"] if e["text"] == text}


def test_modal_will_is_a_name(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Dorothea looked up from her book. Will came in and stood by the fire.\n\n"
        '"Have you walked all the way?" asked Dorothea.\n\n'
        '"Yes, all the way," said Will, smiling. "Will you come out?"\n',
    )
    will = names_of(result)["Will"]
    # "Will came" and "said Will", not the modal of "Will you come out?".
    assert will["proper_count"] == 2
    speaker = quote_starting(result, '"Yes, all')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Will"


def test_will_after_said_is_a_name(engine: Engine, tmp_path) -> None:
    # spaCy tags "Will" in '"No," said Will.' a common noun.
    result = analyse(
        engine,
        tmp_path,
        "Will Ladislaw came to see Dorothea.\n\n"
        '"And I have made you angry," said Will.\n\n'
        '"No," said Will. "I am going."\n',
    )
    for opening in ('"And I have', '"No,"', '"I am going'):
        speaker = quote_starting(result, opening)["speaker"]
        assert speaker is not None
        assert speaker["name"] == "Will Ladislaw"


def test_office_joins_its_named_holder(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Mr. Farebrother was the Vicar of the parish. He was a clever man.\n\n"
        '"You are welcome," said the Vicar.\n\n'
        "Mrs. Cadwallader the Rector's wife came in. The Rector followed her.\n",
    )
    characters = names_of(result)
    assert "Vicar" not in characters
    farebrother = characters["Mr. Farebrother"]
    assert farebrother["names"]["Vicar"] == 2
    speaker = quote_starting(result, '"You are welcome')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Mr. Farebrother"
    # "the Rector's wife" is Mrs. Cadwallader: the Rector himself is unnamed.
    assert "Rector" not in characters["Mrs. Cadwallader"]["names"]


def test_restated_place_is_no_person(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Mr. Brooke drove over to Brassing on Tuesday. Brassing was a noisy "
        "market town, and it smelled of coal. He came back from Brassing late.\n",
    )
    assert "Brassing" not in names_of(result)
    assert categories(result, "Brassing") == {"GPE"}


def test_father_apart_from_son(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Fred Vincy came home late. Mr. Vincy frowned at Fred in the hall. Fred "
        "looked at Mr. Vincy and said nothing. Mr. Vincy walked past Fred to the "
        "stairs. Fred heard Mr. Vincy sigh. At supper Mr. Vincy did not speak to "
        "Fred.\n\n"
        '"You have been at the billiard-table again," said Mr. Vincy.\n\n'
        '"Only for an hour, father," said Fred.\n',
    )
    characters = names_of(result)
    assert "Mr. Vincy" in characters
    assert "Mr. Vincy" not in characters["Fred"]["names"]
    speaker = quote_starting(result, '"You have been')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Mr. Vincy"


def test_husbands_surname_stays_his(engine: Engine, tmp_path) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Mrs. Lydgate sat by the fire with her sewing. Lydgate came in from the "
        "surgery and Lydgate kissed his wife. He was very tired.\n",
    )
    characters = names_of(result)
    assert "Lydgate" not in characters["Mrs. Lydgate"]["names"]
    assert characters["Lydgate"]["names"]["Lydgate"] == 2


def test_sentence_initial_name_read_as_noun(engine: Engine, tmp_path) -> None:
    # spaCy tags "Rosamond" at the sentence's start a common noun; "Father"
    # there is a person noun and stays one.
    result = analyse(
        engine,
        tmp_path,
        "Rosamond smiled at the stranger. Father came in later and sat down.\n",
    )
    rosamond = names_of(result)["Rosamond"]
    assert rosamond["proper_count"] == 1
    father = [e for e in result["entities"] if e["text"] == "Father"]
    assert [e["mention_type"] for e in father] == ["NOM"]


def test_pet_name_joins_who_answers(engine: Engine, tmp_path) -> None:
    # Middlemarch: Celia calls her sister "Dodo", and Dorothea answers.
    turns = []
    for question, answer in (
        ("you are far too serious", "I only think about the cottages"),
        ("will you not wear the necklace", "I shall keep the cross"),
        ("you never see anything pretty", "I saw the emeralds, Celia"),
    ):
        turns.append(f'"Dodo, {question}," said Celia.\n\n"{answer}," said Dorothea.\n')
    text = "Dorothea and Celia sat in the library.\n\n" + "\n".join(turns)
    result = analyse(engine, tmp_path, text)
    characters = names_of(result)
    assert "Dodo" not in characters
    assert characters["Dorothea"]["names"]["Dodo"] == 3


def test_lone_title_goes_to_its_main_holder(engine: Engine, tmp_path) -> None:
    # David Copperfield: "the Doctor" is Doctor Strong, though the book also
    # names Doctor Johnson once.
    scenes = "\n\n".join(
        f'"{line}," said Doctor Strong.' for line in (
            "Good morning", "Sit down", "We begin at nine", "Read it again",
            "That will do", "Very well", "Come in", "Thank you", "Quite so",
            "Good night",
        )
    )  # fmt: skip
    result = analyse(
        engine,
        tmp_path,
        scenes + "\n\nHe admired Doctor Johnson.\n\n"
        '"The dictionary is my life," said the Doctor.\n',
    )
    speaker = quote_starting(result, '"The dictionary')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Doctor Strong"


def test_office_of_wifes_husband(engine: Engine, tmp_path) -> None:
    # Middlemarch: "Mrs. Cadwallader the Rector's wife" makes the Rector Mr.
    # Cadwallader.
    result = analyse(
        engine,
        tmp_path,
        "Mrs. Cadwallader the Rector's wife came in with Mr. Cadwallader.\n\n"
        '"Poor Casaubon!" said the Rector.\n',
    )
    characters = names_of(result)
    assert "Rector" not in characters
    assert characters["Mr. Cadwallader"]["names"]["Rector"] == 2


def test_exclamation_la_is_no_character(engine: Engine, tmp_path) -> None:
    # Pride and Prejudice: Lydia's "La!" became a character "La" that took
    # her "I"s.
    result = analyse(
        engine,
        tmp_path,
        'Lydia laughed at her sisters.\n\n"La!" said Lydia. "La! how ugly it is."\n',
    )
    assert "La" not in names_of(result)
    assert not [e for e in result["entities"] if e["text"] == "La"]
    speaker = quote_starting(result, '"La!"')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Lydia"


def test_ladyship_is_the_lady_named_last(engine: Engine, tmp_path) -> None:
    # Pride and Prejudice: "your ladyship" was a he/him character of its own.
    result = analyse(
        engine,
        tmp_path,
        'Lady Catherine sat in state. Elizabeth bowed to her ladyship. "Your '
        'ladyship is very kind," said Elizabeth.\n\nHer ladyship smiled. "You '
        'are welcome," said her ladyship.\n',
    )
    assert not [c for c in result["characters"] if "ladyship" in c["name"]]
    catherine = names_of(result)["Lady Catherine"]
    assert catherine["gender"]["argmax"] == "she/her"
    assert catherine["nominal_count"] >= 2
    speaker = quote_starting(result, '"You are welcome')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Lady Catherine"


def test_shop_name_ends_the_book(engine: Engine, tmp_path) -> None:
    # Emma: "Ford's" is a shop. A possessive as the book's last token once
    # read past the token table.
    result = analyse(
        engine,
        tmp_path,
        "Harriet took shelter at Ford's. Ford's was the principal shop.\n\n"
        "Emma walked to Ford's",
    )
    assert "Ford" not in names_of(result)
    assert categories(result, "Ford") == {"FAC"}


def test_my_lady_is_the_lady_named_last(engine: Engine, tmp_path) -> None:
    # Bleak House calls Lady Dedlock "my Lady"; each use was its own character.
    result = analyse(
        engine,
        tmp_path,
        "Lady Dedlock is at her house in town. Sir Leicester reads the paper.\n\n"
        '"I am deadly bored," says my Lady.\n\n'
        "My Lady looks at the fire and is silent.\n",
    )
    assert "my Lady" not in names_of(result)
    assert names_of(result)["Lady Dedlock"]["nominal_count"] >= 2
    speaker = quote_starting(result, '"I am deadly')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Lady Dedlock"
