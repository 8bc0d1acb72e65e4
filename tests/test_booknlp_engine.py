"""The BookNLP engine on tiny random-weight BookNLP models, without the service.

The models come from ``tests/booknlp_fixtures.py``: BookNLP's own classes at a
tiny size, saved under the file names BookNLP uses, so loading, the pipeline,
progress, the conversion and the archive all run for real on a short real text.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import logging
import pathlib
import sys
import threading
import zipfile
from typing import Any

import orjson
import pytest
import torch

pytest.importorskip(
    "booknlp",
    reason="booknlp is not installed; install it with "
    "'pip install --no-deps booknlp==1.0.8'",
)

from runner.engine import JobInputError, JobRequest, ProgressReporter  # noqa: E402
from runner.engines.booknlp import progress_hooks  # noqa: E402
from runner.engines.booknlp.archive import archive_path  # noqa: E402
from runner.engines.booknlp.bert_sources import (  # noqa: E402
    BaseBertSource,
    strip_position_ids,
)
from runner.engines.booknlp.console import BookNLPExit, booknlp_console  # noqa: E402
from runner.engines.booknlp.model_files import (  # noqa: E402
    PUBLISHED_FILES,
    ModelFilesMissing,
    locate_model_files,
)
from runner.engines.booknlp.pipelines import pipeline_for  # noqa: E402
from runner.engines.booknlp.settings import BOOKNLP_MODELS_URL, BookNLPSettings  # noqa: E402
from runner.engines.booknlp.spacy_chunks import split_chunks  # noqa: E402
from runner.engines.booknlp.tag_bounds import sentence_bounded, sentence_lengths  # noqa: E402
from runner.engines.booknlp_engine import STAGE_WEIGHTS, BookNLPEngine  # noqa: E402
from tests.booknlp_fixtures import build_small_and_custom  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data"
BOOK = DATA / "pride_and_prejudice_ch1.txt"
ALL_COMPONENTS = ("tokens", "entities", "quotes", "characters", "events", "supersenses")
STAGES = list(STAGE_WEIGHTS)
NATIVE_SUFFIXES = {".tokens", ".entities", ".quotes", ".supersense", ".book", ".book.html"}
# BookNLP's numpy calls warn under numpy 2; they are not this engine's.
pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    text = BOOK.read_text(encoding="utf-8")
    return build_small_and_custom(tmp_path_factory.mktemp("booknlp_models"), text)


@pytest.fixture(scope="module")
def engine(model_dir: pathlib.Path) -> BookNLPEngine:
    with pytest.MonkeyPatch.context() as patch:
        # Nothing may come from the Hugging Face hub.
        patch.setenv("HF_HUB_OFFLINE", "1")
        return BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))


@pytest.fixture(scope="module")
def full_job(
    engine: BookNLPEngine, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any], pathlib.Path]:
    """Run the whole pipeline once; return the result, messages, stats and folder."""
    folder = tmp_path_factory.mktemp("full_job")
    return (*run_job(engine, folder), folder / "results")


def run_job(
    engine: BookNLPEngine,
    tmp_path: pathlib.Path,
    components: tuple[str, ...] = ALL_COMPONENTS,
    model: str = "small",
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Run one job on the test book; return the result, progress messages and stats."""
    results = tmp_path / "results"
    results.mkdir(exist_ok=True)
    result_path = results / "job-1.json"
    messages: list[dict[str, Any]] = []
    reporter = ProgressReporter(messages.append, lambda: False, STAGE_WEIGHTS)
    job = JobRequest("job-1", str(BOOK), str(result_path), components, model, "pp-1")
    stats = engine.run(job, reporter)
    return orjson.loads(result_path.read_bytes()), messages, stats


def test_job_progress_moves_through_stages(full_job: tuple[Any, ...]) -> None:
    _, messages, _, _ = full_job
    stages = [message["stage"] for message in messages]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == STAGES
    progress = [message["progress"] for message in messages]
    assert progress == sorted(progress)
    assert progress[-1] == 100.0
    # Entity tagging and the gender model report inside their stage.
    entity_values = {m["progress"] for m in messages if m["stage"] == "entities"}
    assert len(entity_values) >= 3
    name_coref_values = {m["progress"] for m in messages if m["stage"] == "name_coref"}
    assert len(name_coref_values) >= 10
    assert messages[-1]["tokens_done"] == messages[-1]["tokens_total"] > 1000


def test_job_result_has_common_shape(full_job: tuple[Any, ...]) -> None:
    result, _, stats, _ = full_job
    text = BOOK.read_text(encoding="utf-8")
    assert result["engine"] == "booknlp"
    assert result["model"] == "small"
    assert result["book_id"] == "pp-1"
    assert result["text"]["tokens"] == len(result["tokens"]) == stats["tokens"]
    token_keys = {"paragraph_id", "sentence_id", "token_id", "token_id_in_sentence",
                  "start", "end", "word", "lemma", "pos", "fine_pos", "dep", "head"}  # fmt: skip
    for token in result["tokens"]:
        assert token_keys <= set(token)
        assert text[token["start"] : token["end"]] == token["word"]
    assert [t["token_id"] for t in result["tokens"]] == list(range(len(result["tokens"])))
    entity_keys = {"start_token", "end_token", "start", "end", "text", "category",
                   "mention_type", "character_id"}  # fmt: skip
    assert result["entities"]
    for entity in result["entities"]:
        assert entity_keys <= set(entity)
        assert text[entity["start"] : entity["end"]] == entity["text"]
    assert result["quotes"]
    for quote in result["quotes"]:
        assert quote["text"][0] in "“\""
        assert text[quote["start"] : quote["end"]] == quote["text"]
        assert {"quote_id", "speaker", "speaker_token"} <= set(quote)
    characters = {c["character_id"]: c for c in result["characters"]}
    assert characters
    for character in characters.values():
        assert character["mention_count"] == len(character["mentions"])
        assert set(character["gender"]) == {"argmax", "inference", "evidence"}
    for quote in result["quotes"]:
        if quote["speaker"] is not None:
            assert quote["speaker"]["character_id"] in characters
    assert result["events"]
    assert result["supersenses"]


def test_job_archive_holds_native_files(full_job: tuple[Any, ...]) -> None:
    result, _, _, results = full_job
    path = pathlib.Path(archive_path(str(results / "job-1.json")))
    assert path.name == "job-1.booknlp.zip"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        header = archive.read("job-1.tokens").decode("utf-8").splitlines()[0]
    assert names == {"job-1" + suffix for suffix in NATIVE_SUFFIXES}
    assert header.startswith("paragraph_ID\tsentence_ID")
    assert sorted(result["booknlp"]["native_files"]) == sorted(names)
    leftovers = {p.name for p in results.iterdir()}
    assert leftovers == {"job-1.json", "job-1.booknlp.zip"}


def test_bad_pipeline_fails_job_not_engine(
    engine: BookNLPEngine, tmp_path: pathlib.Path
) -> None:
    # "characters" alone is BookNLP's "entity,coref", which it exits on.
    assert pipeline_for(("characters",)) == "entity,coref"
    with pytest.raises(JobInputError) as caught:
        run_job(engine, tmp_path, components=("characters",))
    message = str(caught.value)
    assert "coref requires quotation attribution" in message
    assert "sys.exit" in message
    assert not (tmp_path / "results" / "job-1.booknlp.zip").exists()
    # The loaded model is untouched, so the next job runs.
    result, _, _ = run_job(engine, tmp_path, components=("tokens", "quotes"))
    assert result["quotes"]
    assert result["entities"] == []
    assert result["characters"] == []


def test_other_model_loads_on_demand(engine: BookNLPEngine, tmp_path: pathlib.Path) -> None:
    result, _, _ = run_job(engine, tmp_path, components=("tokens", "entities"), model="custom")
    assert result["model"] == "custom"
    assert result["entities"]
    # At most one model stays loaded by default.
    assert engine.describe()["loaded_models"] == ["custom"]
    run_job(engine, tmp_path, components=("tokens",), model="small")
    assert engine.describe()["loaded_models"] == ["small"]


def test_event_on_sep_stays_inside(
    engine: BookNLPEngine, tmp_path: pathlib.Path
) -> None:
    # An event head that fires everywhere also fires on each sentence's [SEP].
    # BookNLP's own code raises IndexError on that token (see tag_bounds).
    head = engine.models.get("small").booknlp.entityTagger.model.flat_classifier
    saved = {name: value.detach().clone() for name, value in head.state_dict().items()}
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor([-10.0, 10.0]))
    try:
        result, _, _ = run_job(engine, tmp_path, components=("tokens", "events"))
    finally:
        head.load_state_dict(saved)
    assert [event["token_id"] for event in result["events"]] == [
        token["token_id"] for token in result["tokens"]
    ]


def test_bounded_tagger_drops_overflow() -> None:
    # Two sentences of 3 and 1 words, batched shortest first. The lengths count
    # [CLS] and [SEP], and span keys are (sentence, label, start, end).
    ordering = [1, 0]
    lengths = [[3], [5]]

    def tag_all(*args: Any, **options: Any) -> tuple[Any, Any, Any]:
        assert options == {"doEvent": True}
        entities = [
            {(0, "PER", 0, 3): 1, (0, "PER", 2, 4): 1},
            {(1, "LOC", 0, 1): 1},
        ]
        events = [{0: 1, 2: 1, 3: 1}, {0: 1, 1: 1}]
        return entities, events, None

    bounded = sentence_bounded(tag_all)
    entities, events, supersenses = bounded(*[None] * 5, lengths, ordering, doEvent=True)
    assert sentence_lengths(lengths, ordering) == [3, 1]
    assert entities == [{(0, "PER", 0, 3): 1}, {(1, "LOC", 0, 1): 1}]
    assert events == [{0: 1, 2: 1}, {0: 1}]
    assert supersenses is None


def test_missing_model_file_names_file_and_url(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ModelFilesMissing) as caught:
        BookNLPEngine(BookNLPSettings(model_dir=str(tmp_path)))
    message = str(caught.value)
    for file_name in PUBLISHED_FILES["small"].values():
        assert str(tmp_path / file_name) in message
        assert BOOKNLP_MODELS_URL + file_name in message
    assert "BOOKNLP_JOBS_BOOKNLP_ALLOW_DOWNLOAD=1" in message


def test_custom_model_needs_one_file_per_role(tmp_path: pathlib.Path) -> None:
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "entities_google_bert_uncased_L-2_H-64_A-2-v1.model").touch()
    with pytest.raises(ModelFilesMissing, match=r"exactly one speaker_\*\.model"):
        locate_model_files("custom", BookNLPSettings(model_dir=str(tmp_path)))


def test_download_only_when_allowed(tmp_path: pathlib.Path) -> None:
    published = tmp_path / "published"
    published.mkdir()
    for file_name in PUBLISHED_FILES["small"].values():
        (published / file_name).write_bytes(b"checkpoint " + file_name.encode())
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(published)
    )
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    target = tmp_path / "models"
    try:
        with pytest.raises(ModelFilesMissing):
            locate_model_files("small", BookNLPSettings(str(target), download_url=url))
        files = locate_model_files(
            "small", BookNLPSettings(str(target), allow_download=True, download_url=url)
        )
    finally:
        server.shutdown()
        server.server_close()
    for path in files.paths().values():
        name = pathlib.Path(path).name
        assert pathlib.Path(path).read_bytes() == b"checkpoint " + name.encode()
    assert not list(target.glob("*.part"))


def test_base_config_missing_offline(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    source = BaseBertSource(str(tmp_path), allow_download=False)
    with pytest.raises(ModelFilesMissing) as caught:
        source.source("google/bert_uncased_L-4_H-256_A-4")
    message = str(caught.value)
    assert "https://huggingface.co/google/bert_uncased_L-4_H-256_A-4" in message
    assert str(tmp_path / "google" / "bert_uncased_L-4_H-256_A-4" / "config.json") in message


def test_position_ids_stripped() -> None:
    state = {"bert.embeddings.position_ids": 1, "bert.embeddings.word_embeddings.weight": 2}
    assert strip_position_ids(state) == {"bert.embeddings.word_embeddings.weight": 2}


def test_console_turns_exit_into_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="booknlp")
    with pytest.raises(BookNLPExit) as caught:
        with booknlp_console():
            print("unknown pipe: ner")
            sys.exit(1)
    assert caught.value.reason == "unknown pipe: ner"
    assert caught.value.code == 1
    assert "unknown pipe: ner" in caplog.messages


def test_split_chunks_joins_back() -> None:
    text = ("One sentence here. " * 30 + "\n\n") * 20
    chunks = split_chunks(text, max_chars=1000)
    assert "".join(chunks) == text
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert all(chunk.endswith("\n\n") for chunk in chunks[:-1])
    assert split_chunks("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


def run_job_counting_calls(
    engine: BookNLPEngine,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[dict[str, Any], int]]:
    """Run one job with every report kept; return each message with a call count.

    The count is the number of calls so far to the functions that BookNLP
    calls once per word, name pair, cluster pair or pronoun inside its long
    loops, so the gap between two messages measures work, not time.
    """
    monkeypatch.setattr(progress_hooks, "MIN_REPORT_INTERVAL_S", 0.0)
    calls = [0]
    tokenizer = engine.models.get("small").booknlp.entityTagger.model.tokenizer
    spied = [
        (type(tokenizer), "tokenize"),
        (importlib.import_module("booknlp.english.name_coref").NameCoref, "get_canonical"),
        (importlib.import_module("booknlp.english.name_coref").NameCoref, "calc_overlap"),
        (engine.module.GenderEM, "update"),
    ]
    for owner, name in spied:
        original = getattr(owner, name)

        def counted(*args: Any, original: Any = original, **kwargs: Any) -> Any:
            calls[0] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
    results = tmp_path / "results"
    results.mkdir(exist_ok=True)
    messages: list[tuple[dict[str, Any], int]] = []
    reporter = ProgressReporter(
        lambda message: messages.append((message, calls[0])), lambda: False, STAGE_WEIGHTS
    )
    job = JobRequest(
        "job-1", str(BOOK), str(results / "job-1.json"), ALL_COMPONENTS, "small", "pp-1"
    )
    engine.run(job, reporter)
    return messages


def test_long_stages_report_inside_loops(
    engine: BookNLPEngine, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = run_job_counting_calls(engine, tmp_path, monkeypatch)
    for stage in ("entities", "attribution", "name_coref", "coref"):
        counts = [count for message, count in messages if message["stage"] == stage]
        values = {message["progress"] for message, _ in messages if message["stage"] == stage}
        work = counts[-1] - counts[0]
        largest_gap = max(later - earlier for earlier, later in zip(counts, counts[1:]))
        assert work > 100, stage
        assert len(values) >= 10, (stage, sorted(values))
        # No gap between two reports may span more than an eighth of the stage's calls.
        assert largest_gap <= work / 8, (stage, largest_gap, work)


def test_token_counts_settle_after_tokenizing(full_job: tuple[Any, ...]) -> None:
    _, messages, stats, _ = full_job
    final_total = messages[-1]["tokens_total"]
    assert final_total == stats["tokens"]
    initial_total = messages[0]["tokens_total"]
    later_totals = [m["tokens_total"] for m in messages if m["tokens_total"] != initial_total]
    assert later_totals
    assert set(later_totals) == {final_total}
    first_exact = next(i for i, m in enumerate(messages) if m["tokens_total"] == final_total)
    assert messages[first_exact]["stage"] == "parse"
    done = [m["tokens_done"] for m in messages]
    assert max(done) == final_total
    assert done == sorted(done)
    parse_done = [m["tokens_done"] for m in messages if m["stage"] == "parse"]
    assert parse_done[-1] == final_total
