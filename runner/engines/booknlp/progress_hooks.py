"""Progress inside BookNLP's stages, from wrappers around its components' methods.

BookNLP 1.0.8 has no progress callbacks. ``reporting_hooks`` wraps methods of
the loaded components (as attributes of those objects, for one job only) so
that each stage reports when it starts and ends, and the long ones move per
batch: the entity tagger per ``predict_all`` call, quote attribution per
``forward`` call, coreference per ``get_mention_reps`` call and then per
mention, and the name-coreference stage per epoch of BookNLP's gender model.
The package's files are not changed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from runner.engine import ProgressReporter
from runner.engines.booknlp.pipelines import replaced_attributes

# Reports closer together than this within one stage are dropped, because each
# one polls the pipe for a cancel and coreference calls back once per mention.
MIN_REPORT_INTERVAL_S = 0.05

# Shares of a stage spent before its per-batch loop begins (tokenising words
# into word pieces and building batches), from the structure of BookNLP's code.
# NOTE: estimates, not measurements.
ENTITY_SETUP_SHARE = 0.15
ATTRIBUTION_SETUP_SHARE = 0.1
COREF_SETUP_SHARE = 0.05
# Coreference: the BERT pass over all batches, then two passes over the mentions
# (outside quotes, then inside quotes).
COREF_BERT_SHARE = 0.75
NAME_CLUSTER_SHARE = 0.3


class StageProgress:
    """Forwards ``(stage, fraction)`` reports to the job's ``ProgressReporter``."""

    def __init__(self, reporter: ProgressReporter) -> None:
        self.reporter = reporter
        self.stage: str | None = None
        self._last_report = 0.0

    def report(self, stage: str, fraction: float, tokens_done: int | None = None) -> None:
        """Report ``stage`` as ``fraction`` done; raise ``JobCancelled`` if cancelled."""
        now = time.monotonic()
        if (
            stage == self.stage
            and 0.0 < fraction < 1.0
            and now - self._last_report < MIN_REPORT_INTERVAL_S
        ):
            return
        self.stage = stage
        self._last_report = now
        self.reporter.update(stage, fraction, tokens_done)


class _Counter:
    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0


def _around(
    method: Callable[..., Any],
    before: Callable[[], None],
    after: Callable[[], None],
) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before()
        result = method(*args, **kwargs)
        after()
        return result

    return wrapper


def _entity_hooks(tagger: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    batches = _Counter()
    model = tagger.model

    def tag_all(*args: Any, **kwargs: Any) -> Any:
        # tag_all(batched_wn, batched_sents, batched_data, ...): one batch each.
        batches.total, batches.done = len(args[2]), 0
        progress.report("entities", ENTITY_SETUP_SHARE)
        return original_tag_all(*args, **kwargs)

    def predict_all(*args: Any, **kwargs: Any) -> Any:
        result = original_predict_all(*args, **kwargs)
        batches.done += 1
        share = ENTITY_SETUP_SHARE + (1 - ENTITY_SETUP_SHARE) * batches.fraction()
        progress.report("entities", share)
        return result

    original_tag_all, original_predict_all = model.tag_all, model.predict_all
    stage = _around(
        tagger.tag,
        lambda: progress.report("entities", 0.0),
        lambda: progress.report("entities", 1.0),
    )
    return [
        (tagger, {"tag": stage}),
        (model, {"tag_all": tag_all, "predict_all": predict_all}),
    ]


def _quote_hooks(quote_tagger: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    stage = _around(
        quote_tagger.tag,
        lambda: progress.report("quotes", 0.0),
        lambda: progress.report("quotes", 1.0),
    )
    return [(quote_tagger, {"tag": stage})]


def _attribution_hooks(
    attribution: Any, progress: StageProgress
) -> list[tuple[Any, dict[str, Any]]]:
    batches = _Counter()
    model = attribution.model

    def get_batches(*args: Any, **kwargs: Any) -> Any:
        result = original_get_batches(*args, **kwargs)
        batches.total, batches.done = len(result[0]), 0
        progress.report("attribution", ATTRIBUTION_SETUP_SHARE)
        return result

    def forward(*args: Any, **kwargs: Any) -> Any:
        result = original_forward(*args, **kwargs)
        batches.done += 1
        share = ATTRIBUTION_SETUP_SHARE + (1 - ATTRIBUTION_SETUP_SHARE) * batches.fraction()
        progress.report("attribution", share)
        return result

    original_get_batches, original_forward = model.get_batches, model.forward
    stage = _around(
        attribution.tag,
        lambda: progress.report("attribution", 0.0),
        lambda: progress.report("attribution", 1.0),
    )
    return [
        (attribution, {"tag": stage}),
        (model, {"get_batches": get_batches, "forward": forward}),
    ]


def _name_coref_hooks(resolver: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    steps = {
        "cluster_narrator": (0.0, 0.05),
        "cluster_identical_propers": (0.05, 0.1),
        "cluster_only_nouns": (0.1, NAME_CLUSTER_SHARE),
    }
    wrappers = {}
    for name, (start, end) in steps.items():
        wrappers[name] = _around(
            getattr(resolver, name),
            lambda start=start: progress.report("name_coref", start),
            lambda end=end: progress.report("name_coref", end),
        )
    return [(resolver, wrappers)]


def _coref_hooks(coref: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    batches = _Counter()
    mentions = _Counter()
    model = coref.model

    def forward(*args: Any, **kwargs: Any) -> Any:
        # forward(matrix, index, ..., entities=...): one matrix per batch.
        batches.total, batches.done = len(args[0]), 0
        mentions.total = len(kwargs.get("entities") or ())
        return original_forward(*args, **kwargs)

    def get_mention_reps(*args: Any, **kwargs: Any) -> Any:
        result = original_mention_reps(*args, **kwargs)
        batches.done += 1
        share = COREF_SETUP_SHARE + COREF_BERT_SHARE * batches.fraction()
        progress.report("coref", share)
        return result

    def mention_pass(
        original: Callable[..., Any], pass_start: float
    ) -> Callable[..., Any]:
        pass_share = (1 - COREF_SETUP_SHARE - COREF_BERT_SHARE) / 2

        def wrapper(first: int, index: int, entities: Any, *args: Any) -> Any:
            mentions.done = index
            progress.report("coref", pass_start + pass_share * mentions.fraction())
            return original(first, index, entities, *args)

        return wrapper

    original_forward = model.forward
    original_mention_reps = model.get_mention_reps
    first_pass = COREF_SETUP_SHARE + COREF_BERT_SHARE
    second_pass = first_pass + (1 - first_pass) / 2
    stage = _around(
        coref.tag,
        lambda: progress.report("coref", 0.0),
        lambda: progress.report("coref", 1.0),
    )
    return [
        (coref, {"tag": stage}),
        (
            model,
            {
                "forward": forward,
                "get_mention_reps": get_mention_reps,
                "get_non_quote_cands": mention_pass(model.get_non_quote_cands, first_pass),
                "get_closest_entities": mention_pass(model.get_closest_entities, second_pass),
            },
        ),
    ]


def reporting_gender_model(base: type, progress: StageProgress) -> type:
    """Return a subclass of BookNLP's ``GenderEM`` that reports each EM epoch.

    ``GenderEM`` calls ``maximization`` once while it is built and once per
    epoch after that; the epochs finish the ``name_coref`` stage.
    """

    class ReportingGenderEM(base):  # type: ignore[misc, valid-type]
        _maximizations = 0

        def maximization(self, *args: Any, **kwargs: Any) -> Any:
            result = super().maximization(*args, **kwargs)
            self._maximizations += 1
            epochs = max(getattr(self, "num_epochs", 1), 1)
            done = min(max(self._maximizations - 1, 0) / epochs, 1.0)
            progress.report("name_coref", NAME_CLUSTER_SHARE + (1 - NAME_CLUSTER_SHARE) * done)
            return result

    return ReportingGenderEM


@contextlib.contextmanager
def reporting_hooks(booknlp: Any, progress: StageProgress) -> Iterator[None]:
    """Wrap the methods of the job's BookNLP components for the block.

    ``booknlp`` is the job's ``EnglishBookNLP``; components its pipeline does
    not use are left alone.
    """
    hooks = _quote_hooks(booknlp.quoteTagger, progress)
    if booknlp.doEntities or booknlp.doEvent or booknlp.doSS:
        hooks += _entity_hooks(booknlp.entityTagger, progress)
    if booknlp.doEntities:
        hooks += _name_coref_hooks(booknlp.name_resolver, progress)
    if booknlp.doQuoteAttrib:
        hooks += _attribution_hooks(booknlp.quote_attrib, progress)
    if booknlp.doCoref:
        hooks += _coref_hooks(booknlp.litbank_coref, progress)
    with contextlib.ExitStack() as stack:
        for target, wrappers in hooks:
            stack.enter_context(replaced_attributes(target, wrappers))
        yield
