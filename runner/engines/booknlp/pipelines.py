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
import os
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType, TracebackType
from typing import Any

import torch
import torch.nn.modules.module
import torch.serialization

from runner.engines.booknlp.bert_sources import BERT_MODULES, BaseBertSource, offline_bert
from runner.engines.booknlp.console import booknlp_console
from runner.engines.booknlp.model_files import (
    ModelFileInvalid,
    ModelFiles,
    mismatched_checkpoint,
    unreadable_checkpoint,
)
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
# The BookNLP 1.0.8 modules whose constructors load each checkpoint, with
# ``model.load_state_dict(torch.load(path))``.
ROLE_OF_LOADER = {
    os.path.join("booknlp", "english", "entity_tagger.py"): "entity",
    os.path.join("booknlp", "english", "bert_qa.py"): "speaker",
    os.path.join("booknlp", "english", "litbank_coref.py"): "coref",
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
        with booknlp_console(), offline_bert(source, bert_modules) as checkpoint_sizes:
            try:
                self.booknlp = module.EnglishBookNLP(self.params(",".join(FULL_PIPELINE)))
            except Exception as error:
                invalid = checkpoint_error(error, files, checkpoint_sizes, settings)
                if invalid is None:
                    raise
                raise invalid from error
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


def checkpoint_error(
    error: Exception,
    files: ModelFiles,
    checkpoint_sizes: dict[str, tuple[int, int] | None],
    settings: BookNLPSettings,
) -> ModelFileInvalid | None:
    """Return the error that names the checkpoint behind ``error``, if one is.

    The traceback shows which BookNLP constructor failed, and so the role. A
    failure inside ``torch.load`` means the file cannot be read, and one in
    ``load_state_dict`` means its weights do not fit the model built for it.
    ``checkpoint_sizes`` are the sizes that ``offline_bert`` recorded.
    Returns None for other errors, and for running out of memory, which the
    runner retries.
    """
    if isinstance(error, (MemoryError, torch.OutOfMemoryError)):
        return None
    role = None
    in_torch_load = in_load_state_dict = False
    for frame, _ in traceback.walk_tb(error.__traceback__):
        code = frame.f_code
        filename = os.path.normpath(code.co_filename)
        for loader, loader_role in ROLE_OF_LOADER.items():
            if filename.endswith(loader):
                role = loader_role
        if role is None:
            continue
        if _same_file(filename, torch.serialization.__file__):
            in_torch_load = True
        elif code.co_name == "load_state_dict" and _same_file(
            filename, torch.nn.modules.module.__file__
        ):
            in_load_state_dict = True
    if role is None:
        return None
    if in_torch_load:
        return unreadable_checkpoint(files, role, error, settings)
    if in_load_state_dict:
        path = files.paths()[role]
        return mismatched_checkpoint(files, role, error, checkpoint_sizes.get(path), settings)
    return None


def _same_file(code_filename: str, module_file: str | None) -> bool:
    return module_file is not None and code_filename == os.path.normpath(module_file)


def _release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _drop_frame_locals(error: BaseException) -> None:
    """Clear the locals of finished frames in ``error``'s traceback and its causes.

    A failed load leaves its half-built model in the locals of the constructor
    frames, and the traceback would keep it in memory while the unloaded
    models load again.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb: TracebackType | None = current.__traceback__
        if tb is not None:
            traceback.clear_frames(tb)
        current = current.__cause__ or current.__context__


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

        The files are located and checked before anything is unloaded, so a
        job that names a model with missing or truncated files leaves the
        loaded ones in place. When the load itself fails, the models unloaded
        to make room for it are loaded again before the error is raised.

        Raises:
            ModelFilesMissing: a checkpoint or base configuration is missing.
            ModelFileInvalid: a checkpoint cannot be read or does not fit its
                base BERT.
            BookNLPExit: BookNLP exited while loading.
        """
        if model in self._models:
            self._models.move_to_end(model)
            return self._models[model]
        files = self._locate(model)
        unloaded = self._unload_for(model)
        try:
            loaded = self._load(files)
        except Exception as error:
            if unloaded:
                # The error itself is raised below, so the log names only its type.
                logger.warning(
                    "loading BookNLP model %s failed (%s); loading %s again",
                    model, type(error).__name__,
                    ", ".join(unloaded_files.model for unloaded_files in unloaded),
                )  # fmt: skip
                _drop_frame_locals(error)
                self._reload(unloaded)
            raise
        self._models[model] = loaded
        return loaded

    def _unload_for(self, model: str) -> list[ModelFiles]:
        """Unload least recently used models until ``model`` fits, and return their files."""
        unloaded: list[ModelFiles] = []
        while len(self._models) >= self.capacity:
            name, evicted = self._models.popitem(last=False)
            unloaded.append(evicted.files)
            # No reference may remain, or the memory is not freed before the load.
            del evicted
            logger.info("unloaded BookNLP model %s to make room for %s", name, model)
        if unloaded:
            _release_memory()
        return unloaded

    def _reload(self, unloaded: list[ModelFiles]) -> None:
        """Load ``unloaded`` again, in their former least-recently-used order.

        A model that fails to load again stays unloaded, so ``names`` lists
        only models that are in memory; the failure is logged.
        """
        _release_memory()
        for files in reversed(unloaded):
            try:
                loaded = self._load(files)
            except Exception:
                logger.exception(
                    "loading BookNLP model %s again failed, so it stays unloaded", files.model
                )
                continue
            self._models[files.model] = loaded
            self._models.move_to_end(files.model, last=False)
