"""Base BERT configurations and BookNLP checkpoints, loaded offline.

BookNLP 1.0.8 builds each model on a base BERT named after the checkpoint file
(``google/bert_uncased_L-4_H-256_A-4``) and calls ``from_pretrained`` with that
name, which downloads the configuration, the vocabulary and the base weights.
The checkpoint contains every BERT weight, so only the configuration and the
vocabulary are needed. While BookNLP builds its models, ``offline_bert`` puts
two stand-ins in place of ``BertModel`` and ``BertTokenizer`` in BookNLP's
modules: they read ``config.json`` and ``vocab.txt`` from
``<model dir>/<base name>/`` or from the Hugging Face cache, and download them
only when downloads are allowed.

Checkpoints saved with transformers 3 and 4 also carry the buffer
``bert.embeddings.position_ids``. Current transformers no longer stores it in a
state dict, so a strict ``load_state_dict`` rejects it. That is why
``torch.load`` is wrapped to drop that key.

``local_files_only=True`` alone does not keep huggingface_hub off the network:
huggingface_hub 2.4 still fetches its agent registry from huggingface.co while it
builds request headers for a cache lookup. So while downloads are off,
``offline_bert`` also switches huggingface_hub to offline mode.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import huggingface_hub.constants
import torch
from transformers import BertConfig, BertModel, BertTokenizer

from runner.engines.booknlp.model_files import ModelFilesMissing, checkpoint_bert_size
from runner.engines.booknlp.settings import ALLOW_DOWNLOAD_VARIABLE

logger = logging.getLogger(__name__)

HUB_URL = "https://huggingface.co/"
HUB_OFFLINE_VARIABLE = "HF_HUB_OFFLINE"
BASE_FILES = ("config.json", "vocab.txt")
# BookNLP modules that import BertModel and BertTokenizer by name.
BERT_MODULES = (
    "booknlp.english.tagger",
    "booknlp.english.speaker_attribution",
    "booknlp.english.bert_coref_quote_pronouns",
)
_POSITION_IDS_KEY = re.compile(r"(^|\.)embeddings\.position_ids$")


class BaseBertSource:
    """Finds the configuration and vocabulary of a base BERT by its hub name."""

    def __init__(self, model_dir: str, allow_download: bool) -> None:
        self.model_dir = model_dir
        self.allow_download = allow_download

    def local_folder(self, name: str) -> str:
        """Return ``<model dir>/<name>``, the folder checked first."""
        return os.path.join(self.model_dir, *name.split("/"))

    def source(self, name: str) -> tuple[str, bool]:
        """Return what to pass to ``from_pretrained`` and its ``local_files_only``.

        Raises:
            ModelFilesMissing: neither the model directory nor the Hugging Face
                cache has the files, and downloads are off.
        """
        folder = self.local_folder(name)
        if all(os.path.isfile(os.path.join(folder, file)) for file in BASE_FILES):
            return folder, True
        if self.allow_download or self._cached(name):
            return name, not self.allow_download
        raise ModelFilesMissing(
            f"the base BERT configuration {name!r} is not available offline: "
            f"{', '.join(os.path.join(folder, file) for file in BASE_FILES)} "
            "not found and not in the Hugging Face cache. Download "
            f"{' and '.join(BASE_FILES)} from {HUB_URL}{name} into {folder}, "
            f"or set {ALLOW_DOWNLOAD_VARIABLE}=1"
        )

    @staticmethod
    def _cached(name: str) -> bool:
        try:
            with hub_offline():
                BertConfig.from_pretrained(name, local_files_only=True)
        except OSError:
            return False
        return True

    def load_tokenizer(self, name: str, **kwargs: Any) -> BertTokenizer:
        """Return the tokenizer of ``name``, with BookNLP's keyword arguments."""
        where, local_only = self.source(name)
        logger.info("base BERT %s: tokenizer from %s", name, where)
        with _offline_if(local_only):
            return BertTokenizer.from_pretrained(where, local_files_only=local_only, **kwargs)

    def build_model(self, name: str) -> BertModel:
        """Return an untrained BERT with the configuration of ``name``.

        Its weights are placeholders: BookNLP loads every BERT weight from its
        checkpoint right after building the model.
        """
        where, local_only = self.source(name)
        with _offline_if(local_only):
            config = BertConfig.from_pretrained(where, local_files_only=local_only)
        logger.info("base BERT %s: configuration from %s", name, where)
        model = BertModel(config)
        model.eval()  # from_pretrained returns a model in eval mode too.
        return model


def _stand_ins(source: BaseBertSource) -> tuple[type, type]:
    class OfflineBertTokenizer:
        @classmethod
        def from_pretrained(cls, name: str, **kwargs: Any) -> BertTokenizer:
            return source.load_tokenizer(name, **kwargs)

    class OfflineBertModel:
        @classmethod
        def from_pretrained(cls, name: str, **kwargs: Any) -> BertModel:
            return source.build_model(name)

    return OfflineBertTokenizer, OfflineBertModel


def strip_position_ids(state: Any) -> Any:
    """Drop ``*embeddings.position_ids`` entries from a loaded state dict."""
    if not isinstance(state, dict):
        return state
    stale = [key for key in state if _POSITION_IDS_KEY.search(str(key))]
    for key in stale:
        del state[key]
    if stale:
        logger.debug("dropped %s from a BookNLP checkpoint", ", ".join(stale))
    return state


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Put huggingface_hub (and so transformers) in offline mode for the block.

    huggingface_hub 2.4 reads ``HF_HUB_OFFLINE`` from the environment once, at
    import, into ``huggingface_hub.constants.HF_HUB_OFFLINE``, and checks that
    constant before each request (transformers 5 calls huggingface_hub's
    ``is_offline_mode``). So both the constant and the variable are set, the
    variable for code that reads the environment later.
    """
    saved_constant = huggingface_hub.constants.HF_HUB_OFFLINE
    saved_variable = os.environ.get(HUB_OFFLINE_VARIABLE)
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    os.environ[HUB_OFFLINE_VARIABLE] = "1"
    try:
        yield
    finally:
        huggingface_hub.constants.HF_HUB_OFFLINE = saved_constant
        if saved_variable is None:
            os.environ.pop(HUB_OFFLINE_VARIABLE, None)
        else:
            os.environ[HUB_OFFLINE_VARIABLE] = saved_variable


def _offline_if(local_only: bool) -> contextlib.AbstractContextManager[None]:
    return hub_offline() if local_only else contextlib.nullcontext()


@contextlib.contextmanager
def offline_bert(
    source: BaseBertSource, modules: list[ModuleType]
) -> Iterator[dict[str, tuple[int, int] | None]]:
    """Build BookNLP's models from ``source``, loading checkpoints without position ids.

    ``modules`` are the imported ``BERT_MODULES``. Only the runner child's one
    thread loads models, so swapping module attributes here is safe. Unless
    ``source`` allows downloads, huggingface_hub is offline for the block.

    Yields:
        The checkpoints loaded so far: each path with the layer count and
        hidden size of the BERT it contains (None when it has no BERT weights).
    """
    tokenizer_class, model_class = _stand_ins(source)
    saved = [(module, module.BertTokenizer, module.BertModel) for module in modules]
    original_load = torch.load
    checkpoint_sizes: dict[str, tuple[int, int] | None] = {}

    def load_without_position_ids(*args: Any, **kwargs: Any) -> Any:
        state = strip_position_ids(original_load(*args, **kwargs))
        where = args[0] if args else kwargs.get("f")
        if isinstance(where, (str, os.PathLike)) and isinstance(state, dict):
            checkpoint_sizes[os.fspath(where)] = checkpoint_bert_size(state)
        return state

    for module in modules:
        module.BertTokenizer = tokenizer_class
        module.BertModel = model_class
    torch.load = load_without_position_ids
    try:
        with contextlib.ExitStack() as stack:
            if not source.allow_download:
                stack.enter_context(hub_offline())
            yield checkpoint_sizes
    finally:
        torch.load = original_load
        for module, tokenizer, model in saved:
            module.BertTokenizer = tokenizer
            module.BertModel = model
