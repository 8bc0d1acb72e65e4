"""The spaCy engine with the LitBank tagger (model ``litbank``), without the service.

The passage test checks the shipped weights against labels written by hand for
this project, following LitBank's guidelines: nested noun phrases of the six
categories, and realis events (things that happened, not negated or imagined).
"""

from __future__ import annotations

import pathlib

import pytest

from runner.engine import Engine
from runner.engines.spacy_engine import STAGE_WEIGHTS, create_engine
from tests.test_spacy_engine import run_job

DATA = pathlib.Path(__file__).parent / "data"
COMPONENTS = ("tokens", "entities", "quotes", "characters", "events")

PASSAGE = (
    "Her sister walked slowly into the old kitchen of the farm. "
    "Mr. Hale had already left for London in his carriage. "
    "The old woman sat by the fire and did not speak.\n"
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


@pytest.fixture(scope="module")
def passage_result(engine: Engine, tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("passage")
    result, _messages, _stats = run_job(
        engine, tmp_path, PASSAGE.encode(), COMPONENTS, model="litbank"
    )
    return result


def _entities(result: dict) -> set[tuple[str, str, str]]:
    return {
        (row["text"], row["category"], row["mention_type"])
        for row in result["entities"]
    }


def test_passage_nested_entities(passage_result: dict) -> None:
    found = _entities(passage_result)
    expected = {
        ("Her sister", "PER", "NOM"),
        ("Her", "PER", "PRON"),  # nested inside "Her sister"
        ("Mr. Hale", "PER", "PROP"),
        ("London", "GPE", "PROP"),
        ("The old woman", "PER", "NOM"),
        ("his carriage", "VEH", "NOM"),
        ("his", "PER", "PRON"),  # nested inside "his carriage"
    }
    missing = expected - found
    assert not missing, f"missing {missing}; found {sorted(found)}"
    kitchen = [row for row in passage_result["entities"] if "kitchen" in row["text"]]
    assert kitchen
    assert all(row["category"] == "FAC" for row in kitchen)


def test_passage_events(passage_result: dict) -> None:
    events = {row["text"] for row in passage_result["events"]}
    # "speak" is negated ("did not speak"), so it is no realis event.
    assert {"walked", "left", "sat"} <= events, events
    assert "speak" not in events
    assert "kitchen" not in events
    marked = {t["word"] for t in passage_result["tokens"] if t["event"]}
    assert marked == events


def test_events_point_at_tokens(passage_result: dict) -> None:
    tokens = passage_result["tokens"]
    for event in passage_result["events"]:
        token = tokens[event["token_id"]]
        assert (token["start"], token["end"]) == (event["start"], event["end"])
        assert token["event"] is True


def test_characters_count_nominal_mentions(engine: Engine, tmp_path) -> None:
    result, _messages, stats = run_job(
        engine,
        tmp_path,
        (DATA / "pride_and_prejudice_ch1.txt").read_bytes(),
        COMPONENTS,
        model="litbank",
    )
    assert stats["events"] == len(result["events"]) > 0
    kinds = {row["mention_type"] for row in result["entities"]}
    assert kinds == {"PROP", "NOM", "PRON"}
    bennet = [c for c in result["characters"] if c["name"] == "Mr. Bennet"]
    assert len(bennet) == 1
    assert bennet[0]["gender"]["argmax"] == "he/him/his"
    assert sum(c["nominal_count"] for c in result["characters"]) > 0
    # Nesting: some mention lies strictly inside another one.
    spans = [(row["start_token"], row["end_token"]) for row in result["entities"]]
    assert any(
        outer[0] <= inner[0] and inner[1] <= outer[1] and inner != outer
        for outer in spans
        for inner in spans
    )


def test_progress_moves_within_parse(engine: Engine, tmp_path) -> None:
    # Four chunks of about 4,000 tokens, each tagged in several batches.
    text = (DATA / "pride_and_prejudice_ch1.txt").read_text(encoding="utf-8") * 14
    _result, messages, _stats = run_job(
        engine, tmp_path, text.encode(), COMPONENTS, model="litbank"
    )
    parse = [m["progress"] for m in messages if m["stage"] == "parse"]
    assert parse == sorted(parse)
    assert len(set(parse)) > 8, parse


def test_fast_model_has_no_events(engine: Engine, tmp_path) -> None:
    result, _messages, _stats = run_job(
        engine, tmp_path, PASSAGE.encode(), ("tokens", "entities"), model="fast"
    )
    assert result["events"] == []
    assert all("event" not in token for token in result["tokens"])
    assert {row["mention_type"] for row in result["entities"]} <= {"PROP", "PRON", "NOM"}


def test_sentence_initial_word_not_in_name(engine: Engine, tmp_path) -> None:
    text = (
        '"Bartleby, this is Mr. Cutlets," said the lawyer. "May Mrs. Cutlets '
        'and I have the pleasure?" asked Mr. Cutlets.\n'
    )
    result, _messages, _stats = run_job(
        engine, tmp_path, text.encode(), COMPONENTS, model="litbank"
    )
    names = {row["text"] for row in result["entities"] if row["mention_type"] == "PROP"}
    assert "Mrs. Cutlets" in names
    assert not any(name.startswith("May") for name in names), names


def test_logged_time_counts_parse_once(engine: Engine, tmp_path, caplog) -> None:
    caplog.set_level("INFO", logger="runner.engines.spacy_engine")
    chapter = (DATA / "pride_and_prejudice_ch1.txt").read_bytes()
    result, _messages, _stats = run_job(
        engine, tmp_path, chapter, COMPONENTS, model="litbank"
    )
    timings = result["timings"]
    done = [r.getMessage() for r in caplog.records if ": done " in r.getMessage()]
    assert len(done) == 1
    logged = float(done[0].rsplit(" in ", 1)[1].rstrip("s"))
    stages = sum(timings[stage] for stage in STAGE_WEIGHTS)
    # The tagger part takes most of a second here, so counting it twice shows.
    assert timings["parse.tagger"] > 0.2
    # The log rounds to 0.1 s, and the result times its write stage separately.
    assert abs(logged - stages) < 0.15


def _run(engine: Engine, tmp_path, text: str) -> dict:
    result, _messages, _stats = run_job(
        engine, tmp_path, text.encode(), COMPONENTS, model="litbank"
    )
    return result


def test_titles_are_person_mentions(engine: Engine, tmp_path) -> None:
    text = (
        "I saw the Captain on deck. The Queen summoned the Duke. "
        'Her Majesty was angry. "Go," said the Queen.\n'
    )
    result = _run(engine, tmp_path, text)
    found = _entities(result)
    assert ("the Captain", "PER", "PROP") in found
    assert ("The Queen", "PER", "PROP") in found
    assert ("the Duke", "PER", "PROP") in found
    # A title that is no name alone stays a mention, as a noun phrase.
    assert ("Her Majesty", "PER", "NOM") in found
    names = {character["name"].lower() for character in result["characters"]}
    assert {"the queen", "the captain", "the duke"} <= names
    queen = [c for c in result["characters"] if c["name"].lower() == "the queen"]
    # Both "The Queen" and "the Queen" are one character.
    assert len(queen) == 1


def test_nested_spans_give_one_name(engine: Engine, tmp_path) -> None:
    result = _run(engine, tmp_path, "»Nein«, sagte Hans.\n")
    hans = [row for row in result["entities"] if row["text"] == "Hans"]
    assert len(hans) == 1
    characters = [c for c in result["characters"] if c["name"] == "Hans"]
    assert characters[0]["mention_count"] == 1


def test_mention_stops_before_main_verb(engine: Engine, tmp_path) -> None:
    result = _run(engine, tmp_path, "The old woman who kept the gate laughed at him.\n")
    texts = {row["text"] for row in result["entities"]}
    assert not any("laughed" in text for text in texts), texts
    assert "The old woman who kept the gate" in texts


@pytest.mark.parametrize(
    "text",
    [
        # The tagger reads "Traddles" as a common noun; the name rules find it.
        "\u2018Why,\u2019 said Traddles, with his serious look, \u2018it was "
        "rather a painful transaction.\u2019\n",
        # The tagger's "The Reverend" ends inside "Reverend Mr. Collins".
        "The old Duke sat by the fire with his dog. The Reverend Mr. Collins "
        "bowed to Elizabeth.\n",
    ],
)
def test_entities_never_repeat_or_cross(engine: Engine, tmp_path, text: str) -> None:
    rows = _run(engine, tmp_path, text)["entities"]
    spans = [(row["start_token"], row["end_token"]) for row in rows]
    assert len(spans) == len(set(spans)), spans
    for first in spans:
        for second in spans:
            overlap = first[0] <= second[1] and second[0] <= first[1]
            nested = (first[0] <= second[0] and second[1] <= first[1]) or (
                second[0] <= first[0] and first[1] <= second[1]
            )
            assert nested or not overlap, (first, second)


def test_my_lady_is_no_narrator(engine: Engine, tmp_path) -> None:
    text = (
        "My Lady Dedlock has returned to her house in town. It is reported "
        "that my Lady intends to stay. My Lord is in Paris.\n"
    )
    names = {c["name"] for c in _run(engine, tmp_path, text)["characters"]}
    assert "the narrator" not in names


def test_titled_name_is_no_family(engine: Engine, tmp_path) -> None:
    # "Edwards" is "Edward" plus s, but "Mrs." makes it one person.
    text = (
        "Edward Ferrars came to dinner. Mrs. Edwards was there too, and she "
        "talked all evening. Mrs. Edwards then went home.\n"
    )
    characters = _run(engine, tmp_path, text)["characters"]
    edwards = [c for c in characters if c["name"] == "Mrs. Edwards"]
    assert len(edwards) == 1
    assert edwards[0]["mention_count"] == 3


def test_plural_phrase_takes_no_she(engine: Engine, tmp_path) -> None:
    text = (
        "The Queen sent for her ladies, and Her Majesty was displeased with "
        'them. "Where is the Doctor?" she asked.\n'
    )
    result = _run(engine, tmp_path, text)
    speaker = result["quotes"][0]["speaker"]
    assert speaker is not None
    assert speaker["name"].lower() == "the queen"


def test_inner_title_names_person(engine: Engine, tmp_path) -> None:
    text = (
        "The Reverend Mr. Collins bowed to Elizabeth. Mr. Collins said he was "
        "honoured.\n"
    )
    characters = _run(engine, tmp_path, text)["characters"]
    collins = [c for c in characters if "Collins" in c["name"]]
    assert len(collins) == 1, [c["name"] for c in characters]


def test_addressed_name_takes_no_pronoun(engine: Engine, tmp_path) -> None:
    text = (
        "\u2018Oh, I beg your pardon, Copperfield!\u2019 said Traddles. "
        "\u2018She is a very charming girl.\u2019\n"
    )
    result = _run(engine, tmp_path, text)
    rows = result["entities"]
    copperfield = [row["character_id"] for row in rows if row["text"] == "Copperfield"]
    assert copperfield[0] is not None
    she = [row for row in rows if row["text"] == "She"]
    assert len(she) == 1
    assert she[0]["character_id"] not in copperfield


def test_your_noun_is_not_the_listener(engine: Engine, tmp_path) -> None:
    # Charles Dickens, "Bleak House" (1853), chapter 3, public domain, with the
    # speaker named.
    text = (
        "Esther sat by the window.\n\n"
        '"Your mother, Esther, is your disgrace," said her godmother.\n'
    )
    rows = _run(engine, tmp_path, text)["entities"]
    esther = {row["character_id"] for row in rows if row["text"] == "Esther"}
    mother = [row for row in rows if row["text"] == "Your mother"]
    assert len(mother) == 1
    assert mother[0]["character_id"] not in esther


def test_ships_her_is_a_vehicle(engine: Engine, tmp_path) -> None:
    text = (
        "Captain Ahab stood on the deck of the Pequod. The ship was old, and "
        "her sails were patched.\n"
    )
    rows = _run(engine, tmp_path, text)["entities"]
    her = [row for row in rows if row["text"] == "her"]
    assert [(row["category"], row["character_id"]) for row in her] == [("VEH", None)]


@pytest.mark.parametrize(
    "text",
    [
        "Ann walked to the harbour. The day was grey. The ship sailed at noon, "
        "and her heart sank. She went home. She wept.\n",
        "Tess stepped into the boat, and her hands shook.\n",
    ],
)
def test_womans_her_near_a_ship(engine: Engine, tmp_path, text: str) -> None:
    rows = _run(engine, tmp_path, text)["entities"]
    name = [row for row in rows if row["mention_type"] == "PROP"][0]
    pronouns = [row for row in rows if row["text"].lower() in ("she", "her")]
    assert pronouns
    for row in pronouns:
        assert row["category"] == "PER"
        assert row["character_id"] == name["character_id"]


def test_fast_model_finds_titles(engine: Engine, tmp_path) -> None:
    text = "The Captain sat down. The Duke rose. The Duke of Omnium stayed.\n"
    result, _messages, _stats = run_job(
        engine, tmp_path, text.encode(), COMPONENTS, model="fast"
    )
    found = _entities(result)
    assert ("The Captain", "PER", "PROP") in found
    assert ("The Duke", "PER", "PROP") in found
    texts = {row["text"] for row in result["entities"]}
    assert "The Duke of" not in texts


def test_lone_title_gives_gender(engine: Engine, tmp_path) -> None:
    text = "The Queen spoke. The King laughed. The Duchess left.\n"
    characters = _run(engine, tmp_path, text)["characters"]
    gender = {c["name"].lower(): c["gender"]["argmax"] for c in characters}
    assert gender["the queen"] == "she/her"
    assert gender["the king"] == "he/him/his"
    assert gender["the duchess"] == "she/her"


def test_lone_title_joins_only_holder(engine: Engine, tmp_path) -> None:
    text = (
        "Admiral Croft came in. The Admiral sat down and he smiled. Captain "
        "Wentworth and Captain Harville walked. The Captain laughed.\n"
    )
    characters = _run(engine, tmp_path, text)["characters"]
    names = {c["name"]: c["mention_count"] for c in characters}
    # The book's only admiral is "the Admiral"; with two captains, "the
    # Captain" stays apart.
    assert "the Admiral" not in names
    assert names["Admiral Croft"] == 3
    assert "the Captain" in names


def test_mention_stops_at_quote_edge(engine: Engine, tmp_path) -> None:
    # Jane Austen, "Pride and Prejudice" (1813), public domain. The tagger's
    # span ran from "her mother" into the second quote.
    text = (
        "\u201cI think,\u201d said her mother, soon afterwards, \u201cand so "
        "the Collinses live quite comfortable, do they?\u201d\n"
    )
    result = _run(engine, tmp_path, text)
    quotes = [(q["start_token"], q["end_token"]) for q in result["quotes"]]
    assert len(quotes) == 2
    for row in result["entities"]:
        inside = [first <= row["start_token"] <= last for first, last in quotes]
        ends_inside = [first <= row["end_token"] <= last for first, last in quotes]
        assert inside == ends_inside, row["text"]
    speaker = result["quotes"][0]["speaker"]
    assert speaker is not None
    assert speaker["name"] == "her mother"


def test_title_alone_takes_its_name(engine: Engine, tmp_path) -> None:
    # Jane Austen, "Pride and Prejudice" (1813), public domain. The tagger
    # marks "Mr." without "Bennet" here.
    text = (
        "Elizabeth Bennet walked out with her sisters. Every sister except Mary "
        "agreed to go with her; and Mr. Collins was to attend them, at the "
        "request of Mr. Bennet, who was most anxious to get rid of him, and have "
        "his library to himself.\n"
    )
    result = _run(engine, tmp_path, text)
    found = _entities(result)
    assert ("Mr. Bennet", "PER", "PROP") in found
    assert ("Mr.", "PER", "NOM") not in found
    elizabeth = next(c for c in result["characters"] if "Elizabeth Bennet" in c["names"])
    assert elizabeth["gender"]["argmax"] == "she/her"


@pytest.mark.parametrize(
    "text",
    [
        # Jane Austen, "Pride and Prejudice" (1813), public domain.
        "Sir William had been presented at St. James's, and he talked of it "
        "often. Mr. Hurst proposed a game of piquet before Michaelmas.\n",
        "The dome of St. Paul's rose over London. He lived in Lincoln's Inn.\n",
    ],
)
def test_places_and_feasts_are_no_people(engine: Engine, tmp_path, text) -> None:
    result = _run(engine, tmp_path, text)
    names = {name for c in result["characters"] for name in c["names"]}
    assert not names & {"St. James", "St. Paul", "Lincoln", "Michaelmas"}, names
    found = _entities(result)
    assert ("Michaelmas", "PER", "PROP") not in found


def test_name_after_indefinite_article_is_no_one(engine: Engine, tmp_path) -> None:
    # Frances Hodgson Burnett, "The Secret Garden" (1911), public domain.
    text = (
        "Mary was reminded of the boy Rajah again. Rajah smiled. Colin lay "
        "against his pillows. Presently he turned and looked at the nurse again "
        "and strangely enough he was not like a Rajah at all as he spoke to "
        "her.\n"
    )
    result = _run(engine, tmp_path, text)
    words = [token["word"] for token in result["tokens"]]
    after_a = [
        row
        for row in result["entities"]
        if row["text"] == "Rajah" and words[row["start_token"] - 1] == "a"
    ]
    assert len(after_a) == 1
    assert after_a[0]["character_id"] is None


def test_he_never_speaks_for_jane(engine: Engine, tmp_path) -> None:
    # Jane Austen, "Pride and Prejudice" (1813), public domain. "he" has no
    # antecedent, and Jane has no pronoun votes, only her given name.
    text = (
        "\u201cLet me write for you,\u201d said Jane, \u201cif you dislike the "
        "trouble yourself.\u201d\n\n"
        "\u201cI dislike it very much,\u201d he replied; \u201cbut it must be "
        "done.\u201d\n"
    )
    result = _run(engine, tmp_path, text)
    speakers = [
        quote["speaker"]["name"] if quote["speaker"] else None
        for quote in result["quotes"]
    ]
    assert speakers[0] == "Jane"
    assert "Jane" not in speakers[2:]


def test_her_father_is_mr_of_her_surname(engine: Engine, tmp_path) -> None:
    # After Jane Austen, "Pride and Prejudice" (1813), public domain.
    text = (
        "Mr. Bennet looked up from his book. Elizabeth Bennet was determined "
        "to go.\n\n"
        "\u201cIs this a hint to me, Lizzy,\u201d said her father, \u201cto send "
        "for the horses?\u201d\n"
    )
    result = _run(engine, tmp_path, text)
    speaker = result["quotes"][0]["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Mr. Bennet"
    names = [c["name"] for c in result["characters"]]
    assert "her father" not in names


def test_person_spoken_to_is_person(engine: Engine, tmp_path) -> None:
    # Jane Austen, "Pride and Prejudice" (1813), public domain: Hill is the
    # Bennets' housekeeper, and "Hill" is also a word of place names.
    text = (
        "\u201cLydia, my love, ring the bell--I must speak to Hill this "
        "moment,\u201d cried Mrs. Bennet. We walked up Box Hill with Mrs. Hill.\n"
    )
    found = _entities(_run(engine, tmp_path, text))
    assert ("Hill", "PER", "PROP") in found
    assert ("Mrs. Hill", "PER", "PROP") in found
    assert ("Hill", "FAC", "PROP") not in found


def test_narrators_aunt_is_one_person(engine: Engine, tmp_path) -> None:
    # Two mentions of "my aunt" farther apart than nearby noun phrases join.
    filler = " ".join(["The rain fell on the long road, and the cold wind blew."] * 45)
    text = (
        "I had not seen my aunt for many years.\n\n'How much?' asked my aunt.\n\n"
        f"{filler}\n\n'He might have done worse,' said my aunt.\n"
    )
    result = _run(engine, tmp_path, text)
    aunts = [c for c in result["characters"] if c["name"] == "my aunt"]
    assert len(aunts) == 1
    speakers = {q["speaker"]["character_id"] for q in result["quotes"] if q["speaker"]}
    assert speakers == {aunts[0]["character_id"]}


def test_unattributed_quote_keeps_its_i(engine: Engine, tmp_path) -> None:
    # Charles Dickens, "Bleak House" (1853), public domain.
    text = '"Is Charley your brother?"\n\n"No. She\'s my sister, Charlotte."\n'
    result = _run(engine, tmp_path, text)
    assert all(quote["speaker"] is None for quote in result["quotes"])
    mine = [row for row in result["entities"] if row["text"] == "my"]
    assert len(mine) == 1
    assert mine[0]["mention_type"] == "PRON"
    assert mine[0]["character_id"] is None


def test_partial_pipeline_consistent(engine: Engine, tmp_path) -> None:
    text = '"I will go," said Mary. She ran and jumped.\n'
    (tmp_path / "quotes").mkdir()
    (tmp_path / "tokens").mkdir()
    quotes_only, _messages, _stats = run_job(
        engine, tmp_path / "quotes", text.encode(), ("quotes",), model="litbank"
    )
    speaker = quotes_only["quotes"][0]["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Mary"
    # The characters list is empty, so no id may point into it.
    assert quotes_only["characters"] == []
    assert speaker["character_id"] is None
    tokens_only, _messages, _stats = run_job(
        engine, tmp_path / "tokens", text.encode(), ("tokens",), model="litbank"
    )
    assert tokens_only["events"] == []
    assert all("event" not in token for token in tokens_only["tokens"])
