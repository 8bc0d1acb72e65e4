"""Loading BookNLP models: no network without downloads, named checkpoint errors, the cache.

The checkpoints come from ``tests/booknlp_fixtures.py``. Each test works on its
own copy of the model folder, made of hard links, so a test replaces a file
(unlink, then write) rather than writing into it.
"""

from __future__ import annotations

import gc
import importlib
import os
import pathlib
import shutil
import socket
import weakref
from typing import Any

import pytest

pytest.importorskip(
    "booknlp",
    reason="booknlp is not installed; install it with "
    "'pip install --no-deps booknlp==1.0.8'",
)

import huggingface_hub.constants  # noqa: E402

from runner.engine import JobRequest, ProgressReporter  # noqa: E402
from runner.engines.booknlp.model_files import (  # noqa: E402
    PUBLISHED_FILES,
    ModelFileInvalid,
    ModelFiles,
    ModelFilesMissing,
)
from runner.engines.booknlp.pipelines import ModelCache  # noqa: E402
from runner.engines.booknlp.settings import BOOKNLP_MODELS_URL, BookNLPSettings  # noqa: E402
from runner.engines.booknlp_engine import STAGE_WEIGHTS, BookNLPEngine  # noqa: E402
from tests.booknlp_fixtures import TINY_CUSTOM_FILES, build_small_and_custom  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning"),
]

BOOK = pathlib.Path(__file__).parent / "data" / "pride_and_prejudice_ch1.txt"
SHORT_TEXT = "“My dear Mr. Bennet,” said his lady to him one day. He replied that he had not.\n"
SMALL = PUBLISHED_FILES["small"]
SMALL_BASES = (
    "google/bert_uncased_L-4_H-256_A-4",
    "google/bert_uncased_L-8_H-256_A-4",
    "google/bert_uncased_L-2_H-256_A-4",
)
# What `head -c 50000` leaves of a checkpoint: no zip central directory.
TRUNCATED_BYTES = 50_000
CACHE_COMMIT = "0" * 40


@pytest.fixture(scope="module")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    text = BOOK.read_text(encoding="utf-8")
    return build_small_and_custom(tmp_path_factory.mktemp("booknlp_models"), text)


@pytest.fixture
def model_dir(built_dir: pathlib.Path, tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "models"
    shutil.copytree(built_dir, folder, copy_function=os.link)
    return folder


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def replace_file(path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path``, leaving other hard links intact."""
    path.unlink()
    path.write_bytes(data)


def truncate(path: pathlib.Path) -> None:
    replace_file(path, path.read_bytes()[:TRUNCATED_BYTES])


def run_job(engine: BookNLPEngine, tmp_path: pathlib.Path, model: str) -> dict[str, Any]:
    """Run a job on a two-sentence text with ``model``; return its stats."""
    results = tmp_path / "results"
    results.mkdir(exist_ok=True)
    text_path = tmp_path / "short.txt"
    text_path.write_text(SHORT_TEXT, encoding="utf-8")
    reporter = ProgressReporter(lambda message: None, lambda: False, STAGE_WEIGHTS)
    job = JobRequest("job-1", str(text_path), str(results / "job-1.json"), ("tokens",), model)
    return engine.run(job, reporter)


# No network access while downloads are off.


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> list[Any]:
    """Record and block every name lookup and connection, and return the record.

    The environment is the tester's: HF_HUB_OFFLINE unset, an empty Hugging
    Face cache and no cached huggingface_hub agent registry, which
    huggingface_hub 2.4 fetches from huggingface.co when it is missing.
    """
    attempts: list[Any] = []

    def blocked_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(("getaddrinfo", host))
        raise socket.gaierror(socket.EAI_NONAME, "blocked by the test")

    def blocked_connect(self: socket.socket, address: Any) -> None:
        attempts.append(("connect", address))
        raise ConnectionRefusedError("blocked by the test")

    monkeypatch.setattr(socket, "getaddrinfo", blocked_lookup)
    monkeypatch.setattr(socket.socket, "connect", blocked_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", blocked_connect)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(
        huggingface_hub.constants,
        "AGENT_HARNESSES_PATH",
        str(tmp_path / "agent_harnesses.json"),
        raising=False,
    )
    try:
        agents = importlib.import_module("huggingface_hub.utils._detect_agent")
    except ImportError:
        agents = None
    if agents is not None:
        monkeypatch.setattr(agents, "_registry", None, raising=False)
    return attempts


def move_bases_to_hub_cache(model_dir: pathlib.Path, cache: pathlib.Path) -> None:
    """Move each base BERT folder into the Hugging Face cache layout."""
    for base in SMALL_BASES:
        repo = cache / ("models--" + base.replace("/", "--"))
        snapshot = repo / "snapshots" / CACHE_COMMIT
        snapshot.mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(CACHE_COMMIT, encoding="utf-8")
        for file_name in ("config.json", "vocab.txt"):
            shutil.move(model_dir.joinpath(*base.split("/"), file_name), snapshot / file_name)
    shutil.rmtree(model_dir / "google")


def test_missing_bases_no_connection(
    model_dir: pathlib.Path, connections: list[Any]
) -> None:
    shutil.rmtree(model_dir / "google")
    with pytest.raises(ModelFilesMissing) as caught:
        BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    assert connections == []
    message = str(caught.value)
    assert "https://huggingface.co/google/bert_uncased_L-4_H-256_A-4" in message
    assert "BOOKNLP_JOBS_BOOKNLP_ALLOW_DOWNLOAD=1" in message


def test_cached_bases_no_connection(
    model_dir: pathlib.Path, connections: list[Any], tmp_path: pathlib.Path
) -> None:
    move_bases_to_hub_cache(model_dir, tmp_path / "hf")
    engine = BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    assert engine.describe()["loaded_models"] == ["small"]
    assert connections == []
    # Offline mode lasts only while a model loads.
    assert huggingface_hub.constants.HF_HUB_OFFLINE is False
    assert "HF_HUB_OFFLINE" not in os.environ


# Checkpoints that cannot be read or do not fit: errors at engine start.


def test_truncated_checkpoint_at_start(model_dir: pathlib.Path, offline_env: None) -> None:
    path = model_dir / SMALL["entity"]
    truncate(path)
    with pytest.raises(ModelFileInvalid) as caught:
        BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    message = str(caught.value)
    assert str(path) in message
    assert "entity tagger checkpoint" in message
    assert "truncated or corrupt" in message
    assert f"Download it again from {BOOKNLP_MODELS_URL}{SMALL['entity']}" in message


def test_unreadable_checkpoint_at_start(model_dir: pathlib.Path, offline_env: None) -> None:
    # Not a zip archive, so only torch.load finds out, inside BookNLP.
    path = model_dir / SMALL["coref"]
    replace_file(path, b"not a checkpoint\n" * 100)
    with pytest.raises(ModelFileInvalid) as caught:
        BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    message = str(caught.value)
    assert str(path) in message
    assert "coreference checkpoint" in message
    assert "cannot be read" in message
    assert f"{BOOKNLP_MODELS_URL}{SMALL['coref']}" in message


def test_mismatched_checkpoint_at_start(model_dir: pathlib.Path, offline_env: None) -> None:
    # A checkpoint trained on L-2_H-64 under the small model's L-4_H-256 name.
    path = model_dir / SMALL["entity"]
    replace_file(path, (model_dir / TINY_CUSTOM_FILES["entity"]).read_bytes())
    with pytest.raises(ModelFileInvalid) as caught:
        BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    message = str(caught.value)
    assert str(path) in message
    assert "entity tagger checkpoint" in message
    assert "does not match the base BERT size in its file name" in message
    assert "(4 layers, hidden size 256)" in message
    assert "2 layers and hidden size 64" in message
    assert f"Download it again from {BOOKNLP_MODELS_URL}{SMALL['entity']}" in message
    assert "entities_google_bert_uncased_L-2_H-64_A-1-v1.0.model" in message
    assert "Missing key(s)" not in message


# Errors at job time, and the models kept loaded.


def test_truncated_custom_keeps_small(
    model_dir: pathlib.Path, offline_env: None, tmp_path: pathlib.Path
) -> None:
    engine = BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    small = engine.models.get("small")
    path = model_dir / TINY_CUSTOM_FILES["entity"]
    truncate(path)
    with pytest.raises(ModelFileInvalid) as caught:
        run_job(engine, tmp_path, "custom")
    message = str(caught.value)
    assert str(path) in message
    assert "entity tagger checkpoint" in message
    assert "truncated or corrupt" in message
    assert "Copy your trained checkpoint" in message
    assert engine.describe()["loaded_models"] == ["small"]
    # The small model was never unloaded.
    assert engine.models.get("small") is small


def test_mismatched_custom_reloads_small(
    model_dir: pathlib.Path, offline_env: None, tmp_path: pathlib.Path
) -> None:
    engine = BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    path = model_dir / TINY_CUSTOM_FILES["speaker"]
    replace_file(path, (model_dir / SMALL["speaker"]).read_bytes())
    with pytest.raises(ModelFileInvalid) as caught:
        run_job(engine, tmp_path, "custom")
    message = str(caught.value)
    assert str(path) in message
    assert "speaker attribution checkpoint" in message
    assert "8 layers and hidden size 256" in message
    assert "Rename it to the size it was trained with" in message
    assert "speaker_google_bert_uncased_L-8_H-256_A-4-v1.0.model" in message
    assert engine.describe()["loaded_models"] == ["small"]
    stats = run_job(engine, tmp_path, "small")
    assert stats["tokens"] > 0


def test_failed_reload_shows_none_loaded(
    model_dir: pathlib.Path, offline_env: None, tmp_path: pathlib.Path
) -> None:
    engine = BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    replace_file(model_dir / SMALL["coref"], b"not a checkpoint\n")
    replace_file(
        model_dir / TINY_CUSTOM_FILES["entity"], (model_dir / SMALL["entity"]).read_bytes()
    )
    with pytest.raises(ModelFileInvalid, match="custom/entities_"):
        run_job(engine, tmp_path, "custom")
    assert engine.describe()["loaded_models"] == []


def test_switch_lists_new_model(
    model_dir: pathlib.Path, offline_env: None, tmp_path: pathlib.Path
) -> None:
    engine = BookNLPEngine(BookNLPSettings(model_dir=str(model_dir)))
    run_job(engine, tmp_path, "custom")
    assert engine.describe()["loaded_models"] == ["custom"]


# The cache on its own, with stand-in models.


class StubModel:
    def __init__(self, files: ModelFiles) -> None:
        self.files = files


def stub_files(model: str) -> ModelFiles:
    return ModelFiles(model, f"{model}/e.model", f"{model}/s.model", f"{model}/c.model")


class StubLoader:
    """Loads stand-in models, failing for the names in ``failing``."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.loads: list[str] = []
        self.alive_at_load: list[list[str]] = []
        self.refs: dict[str, weakref.ref[StubModel]] = {}

    def __call__(self, files: ModelFiles) -> StubModel:
        gc.collect()
        self.alive_at_load.append(sorted(n for n, ref in self.refs.items() if ref()))
        self.loads.append(files.model)
        if files.model in self.failing:
            raise ModelFileInvalid(f"{files.model} is broken")
        model = StubModel(files)
        self.refs[files.model] = weakref.ref(model)
        return model


def test_cache_frees_before_loading() -> None:
    loader = StubLoader()
    cache = ModelCache(stub_files, loader, capacity=1)
    cache.get("small")
    cache.get("big")
    # The small model was freed before the big one started loading.
    assert loader.alive_at_load == [[], []]
    assert cache.names() == ["big"]


def test_cache_restores_after_failed_load() -> None:
    loader = StubLoader()
    cache = ModelCache(stub_files, loader, capacity=2)
    cache.get("small")
    cache.get("big")
    cache.get("small")
    loader.failing.add("custom")
    with pytest.raises(ModelFileInvalid, match="custom is broken"):
        cache.get("custom")
    assert loader.loads == ["small", "big", "custom", "big"]
    # Same least-recently-used order as before the failed load.
    assert cache.names() == ["big", "small"]


def test_cache_failed_reload_listed_unloaded() -> None:
    loader = StubLoader()
    cache = ModelCache(stub_files, loader, capacity=1)
    cache.get("small")
    loader.failing.update({"small", "custom"})
    with pytest.raises(ModelFileInvalid, match="custom is broken"):
        cache.get("custom")
    assert cache.names() == []


def test_cache_missing_files_unload_nothing() -> None:
    loader = StubLoader()

    def locate(model: str) -> ModelFiles:
        if model == "custom":
            raise ModelFilesMissing("no custom files")
        return stub_files(model)

    cache = ModelCache(locate, loader, capacity=1)
    small = cache.get("small")
    with pytest.raises(ModelFilesMissing):
        cache.get("custom")
    assert cache.get("small") is small
    assert loader.loads == ["small"]
