"""Messages between the front process and the runner child, and the engine catalogue.

This is the only module that both processes import: the front must stay free of
torch, spaCy and the engines, so everything it needs to know about the child lives
here. Each message is a ``(kind, payload)`` tuple whose payload is a small dict of
plain values; large data (a book's text, a result) travels as a file path.

Front to child:
    ``job``: ``{"job_id", "text_path", "result_path", "options"}``.
    ``cancel``: ``{"job_id"}``; the child checks for it between chunks.
    ``stop``: ``{}``; the child finishes nothing further and exits.

Child to front:
    ``ready``: the engine description (see ``Engine.describe``) and ``pid``.
    ``described``: the engine description again, after a job changed it (a
    model loaded or unloaded).
    ``progress``: ``{"job_id", "stage", "tokens_done", "tokens_total", "progress"}``.
    ``result``: ``{"job_id", "result_path", "stats"}``.
    ``error``: ``{"job_id", "message", "kind", "traceback"}``.
    ``cancelled``: ``{"job_id"}``.
    ``fatal``: ``{"message", "traceback"}``: the child cannot go on (engine load failed).
"""

from __future__ import annotations

import dataclasses
import importlib
from multiprocessing.connection import Connection
from typing import Any

JOB = "job"
CANCEL = "cancel"
STOP = "stop"

READY = "ready"
DESCRIBED = "described"
PROGRESS = "progress"
RESULT = "result"
ERROR = "error"
CANCELLED = "cancelled"
FATAL = "fatal"

Message = tuple[str, dict[str, Any]]

# Result sections every engine writes; those it does not compute are empty lists.
ALL_COMPONENTS = ("tokens", "entities", "quotes", "characters", "events", "supersenses")


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    """Capabilities of an engine, known to the front before the child starts.

    Attributes:
        components: result sections the engine computes.
        models: model names a request may select; the first is the default.
        description: one line for ``/v1/ready`` and the README.
        lacking: ``(model, components)`` pairs: sections that a model does not
            compute although the engine's other models do.
        requires: ``(component, needed, reason)`` triples: a pipeline that
            names ``component`` must also name the sections in ``needed``.
    """

    components: tuple[str, ...]
    models: tuple[str, ...]
    description: str
    lacking: tuple[tuple[str, tuple[str, ...]], ...] = ()
    requires: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    @property
    def default_model(self) -> str:
        return self.models[0]

    def components_for(self, model: str) -> tuple[str, ...]:
        """Return the sections that ``model`` computes, in the engine's order."""
        lacking = dict(self.lacking).get(model, ())
        return tuple(name for name in self.components if name not in lacking)


ENGINES: dict[str, EngineSpec] = {
    "spacy": EngineSpec(
        components=("tokens", "entities", "quotes", "characters", "events"),
        # "litbank": spaCy parse plus the LitBank entity and event tagger;
        # "fast": spaCy's own NER and rules, no events.
        models=("litbank", "fast"),
        description="spaCy en_core_web_sm parse, a LitBank-trained MiniLM tagger "
        "for nested entities and events (model litbank) or spaCy NER (model fast), "
        "rule-based quotes and character clustering",
        lacking=(("fast", ("events",)),),
    ),
    "booknlp": EngineSpec(
        components=(
            "tokens", "entities", "quotes", "characters", "events", "supersenses"
        ),
        # The first is the default, which the engine loads when the child starts.
        models=("small", "big", "custom"),
        description="BookNLP 1.0.8's own pipeline with its small, big or custom "
        "models from BOOKNLP_JOBS_BOOKNLP_MODEL_DIR",
        # BookNLP exits when its coref pipe runs without quote attribution.
        requires=(
            ("characters", ("quotes",), "BookNLP's coreference uses quote attribution"),
        ),
    ),
    # A fast engine for tests of timing and faults; it does no NLP.
    "test": EngineSpec(
        components=("tokens",),
        models=("fast",),
        description="whitespace tokens only, with scripted delays and faults",
    ),
}


# BookNLP's native files of a job, zipped beside its result by the "booknlp"
# engine. The front serves and expires them, so the rule sits here, in the one
# module both processes import.
NATIVE_ARCHIVE_SUFFIX = ".booknlp.zip"


def native_archive_path(result_path: str) -> str:
    """Return the path of the BookNLP archive that belongs to a result file."""
    return result_path.removesuffix(".json") + NATIVE_ARCHIVE_SUFFIX


# Files that a job writes in the results folder while it runs: token spools
# ("tokens-<job_id>-<random>.jsonl", see runner.analysis.result_writer) and
# "<final name>.part" files that are renamed into place when complete. A child
# killed mid-job leaves them behind, so the front deletes them when a child dies
# and when the service starts.
TOKEN_SPOOL_PREFIX = "tokens-"
TOKEN_SPOOL_SUFFIX = ".jsonl"
PARTIAL_SUFFIX = ".part"
# The "booknlp" engine runs BookNLP in a folder "<job_id>.booknlp-<random>" in
# the results folder (tempfile.mkdtemp in runner/engines/booknlp_engine.py).
NATIVE_WORK_DIR_INFIX = ".booknlp-"


def token_spool_prefix(job_id: str | None) -> str:
    """Return the file name prefix of a token spool of ``job_id``.

    Without a job id the prefix is plain ``tokens-``, and the front can only
    tell that the spool belongs to some job.
    """
    if job_id is None:
        return TOKEN_SPOOL_PREFIX
    return f"{TOKEN_SPOOL_PREFIX}{job_id}-"


def child_entry(conn: Connection, settings: dict[str, Any]) -> None:
    """Run the runner child; the target the front passes to ``Process``.

    The import happens here, inside the child, so that the front never loads the
    runner's heavy modules just to name the target function.
    """
    child = importlib.import_module("runner.child")
    child.main(conn, settings)
