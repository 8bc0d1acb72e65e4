"""BookNLP models loaded once, and a BookNLP pipeline object for each job.

A model size is loaded once with BookNLP's full pipeline. For each job, BookNLP's
own constructor runs again with the job's pipeline, so BookNLP checks the
options itself. It calls ``sys.exit`` on a bad one, which ``booknlp_console``
turns into ``BookNLPExit``. Every heavy part comes from the loaded model instead
of being read from disk again.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import importlib
import logging
import time
import types
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import torch

from runner.engines.booknlp.bert_sources import BERT_MODULES, BaseBertSource, offline_bert
from runner.engines.booknlp.console import booknlp_console
from runner.engines.booknlp.model_files import ModelFiles
from runner.engines.booknlp.settings import BookNLPSettings

logger = logging.getLogger(__name__)

# BookNLP's pipeline names, in the order its own command line lists them.
FULL_PIPELINE = ("entity", "quote", "supersense", "event", "coref")
PIPE_OF_COMPONENT = {
    "entities": "entity",
    "quotes": "quote",
    "supersenses": "supersense",
    "events": "event",
    "characters": "coref",
}


def pipeline_for(components: Sequence[str]) -> str:
    """Return BookNLP's pipeline string for the result sections of a job.

    ``entity`` always runs: BookNLP 1.0.8 writes its ``.tokens`` file only after
    its tagger runs, and reads the entity list whenever the tagger runs, so
    ``event`` or ``supersense`` without ``entity`` fail with a KeyError. Every
    other rule (``coref`` needs ``quote``) is left to BookNLP's own checks.
    """
    pipes = {PIPE_OF_COMPONENT[name] for name in components if name in PIPE_OF_COMPONENT}
    pipes.add("entity")
    return ",".join(pipe for pipe in FULL_PIPELINE if pipe in pipes)


@contextlib.contextmanager
def replaced_attributes(target: Any, values: dict[str, Any]) -> Iterator[None]:
    """Set attributes of ``target`` (a module or an object) for the block only.

    Attributes that were not in the object's own ``__dict__`` (methods found on
    its class) are deleted again afterwards rather than set back.
    """
    own = vars(target)
    saved = {name: own[name] for name in values if name in own}
    for name, value in values.items():
        setattr(target, name, value)
    try:
        yield
    finally:
        for name in values:
            if name in saved:
                setattr(target, name, saved[name])
            else:
                delattr(target, name)


class LoadedModel:
    """One model size, loaded by BookNLP's constructor with the full pipeline."""

    def __init__(
        self,
        module: ModuleType,
        files: ModelFiles,
        settings: BookNLPSettings,
        spacy_package: str,
    ) -> None:
        self.module = module
        self.files = files
        self.spacy_package = spacy_package
        self.model_dir = settings.model_dir
        source = BaseBertSource(settings.model_dir, settings.allow_download)
        bert_modules = [importlib.import_module(name) for name in BERT_MODULES]
        started = time.perf_counter()
        with booknlp_console(), offline_bert(source, bert_modules):
            self.booknlp = module.EnglishBookNLP(self.params(",".join(FULL_PIPELINE)))
        self.load_s = round(time.perf_counter() - started, 2)
        logger.info("loaded BookNLP model %s in %.1fs", files.model, self.load_s)

    def params(self, pipeline: str) -> dict[str, Any]:
        """Return BookNLP's ``model_params`` for ``pipeline`` with these files.

        The files are always passed as a ``custom`` model, so BookNLP never
        looks for (or downloads) files of its own.
        """
        return {
            "pipeline": pipeline,
            "model": "custom",
            "entity_model_path": self.files.entity,
            "coref_model_path": self.files.coref,
            "quote_attribution_model_path": self.files.speaker,
            "model_path": self.model_dir,
            "spacy_model": self.spacy_package,
        }

    def job_pipeline(self, pipeline: str, parser: Any) -> Any:
        """Return a BookNLP object for ``pipeline`` that shares this model's parts.

        ``parser`` takes the place of BookNLP's spaCy wrapper for the job.

        Raises:
            BookNLPExit: BookNLP rejected the pipeline.
        """
        parts = self.booknlp
        shared_nlp = parts.tagger.spacy_nlp
        reuse = {
            "spacy": types.SimpleNamespace(load=lambda *args, **kwargs: shared_nlp),
            "SpacyPipeline": lambda nlp: parser,
            "QuoteTagger": lambda: parts.quoteTagger,
            "LitBankEntityTagger": lambda *args, **kwargs: parts.entityTagger,
            "NameCoref": lambda *args, **kwargs: parts.name_resolver,
            "QuotationAttribution": lambda *args, **kwargs: parts.quote_attrib,
            "LitBankCoref": lambda *args, **kwargs: parts.litbank_coref,
        }
        with replaced_attributes(self.module, reuse), booknlp_console():
            return self.module.EnglishBookNLP(self.params(pipeline))


class ModelCache:
    """The loaded model sizes, at most ``capacity`` of them, least recent out first."""

    def __init__(
        self,
        locate: Callable[[str], ModelFiles],
        load: Callable[[ModelFiles], LoadedModel],
        capacity: int,
    ) -> None:
        self._locate = locate
        self._load = load
        self.capacity = capacity
        self._models: collections.OrderedDict[str, LoadedModel] = collections.OrderedDict()

    def names(self) -> list[str]:
        """Return the loaded model names, least recently used first."""
        return list(self._models)

    def get(self, model: str) -> LoadedModel:
        """Return ``model``, loading it first when it is not loaded.

        The files are checked before anything is unloaded, so a job that names
        a model with missing files leaves the loaded ones in place.

        Raises:
            ModelFilesMissing: a checkpoint or base configuration is missing.
            BookNLPExit: BookNLP exited while loading.
        """
        if model in self._models:
            self._models.move_to_end(model)
            return self._models[model]
        files = self._locate(model)
        while len(self._models) >= self.capacity:
            evicted, _ = self._models.popitem(last=False)
            logger.info("unloaded BookNLP model %s to make room for %s", evicted, model)
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        loaded = self._load(files)
        self._models[model] = loaded
        return loaded
