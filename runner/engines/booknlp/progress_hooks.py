"""Progress inside BookNLP's stages, from wrappers around its components' methods.

BookNLP 1.0.8 has no progress callbacks. ``reporting_hooks`` wraps methods of
the loaded components (as attributes of those objects, for one job only) so
that each stage reports when it starts and ends and moves while it runs. Some
long loops call no method that could mark an item, so they are followed
through a function they call per item. These are the word-piece tokenizer
(per word), ``numpy.zeros`` (per quote), ``NameCoref.get_canonical`` (per pair
of names), ``calc_overlap`` (per pair of clusters) and ``GenderEM.update`` (per
pronoun). Model batches also move per BERT layer and LSTM, through PyTorch
forward hooks. Each report also polls the pipe for a cancel. The package's
files are not changed.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import torch
from transformers.models.bert.modeling_bert import BertLayer

from runner.engine import ProgressReporter
from runner.engines.booknlp.pipelines import replaced_attributes

# Reports closer together than this within one stage are dropped, because each
# one polls the pipe for a cancel and some wrapped functions run millions of
# times.
MIN_REPORT_INTERVAL_S = 0.05
# A counted step calls StageProgress.report at most about this many times, so
# that a function called millions of times costs one comparison per call.
REPORTS_PER_STEP = 1000
# Inside a batch, layer steps move at most this far towards the batch's end, in
# case the batch runs more layers than the model has.
LAYER_SHARE_CAP = 0.9

# Ends of the steps of each stage, as fractions of the stage. The steps before
# a stage's per-batch loop turn every word into word pieces and build batches.
# NOTE: estimates from timing BookNLP 1.0.8 on Bartleby and The Secret Garden
# with the random-weight test models on 2 CPU cores. Real models tag fewer
# mentions, and a GPU shortens the BERT batches, so the shares will differ.
ENTITY_SETUP_SHARE = 0.15
ATTRIBUTION_CONTEXT_SHARE = 0.15
ATTRIBUTION_SETUP_SHARE = 0.3
COREF_SETUP_SHARE = 0.4
# Coreference: the BERT pass over all batches, then two passes over the mentions
# (outside quotes, then inside quotes).
COREF_BERT_SHARE = 0.45
NAME_PROPER_SHARE = 0.05
NAME_PAIRS_SHARE = 0.45
NAME_CLUSTER_SHARE = 0.75


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


class _BatchCount:
    """Progress of a stage's loop over model batches, moved per BERT layer and LSTM.

    A batch of 32 or 128 sequences of up to 500 word pieces takes seconds on a
    CPU, so each batch's share moves by one step per finished layer. The
    number of layer calls per batch is taken to be the number of such modules.
    """

    def __init__(self, progress: StageProgress, stage: str, start: float, end: float) -> None:
        self.progress = progress
        self.stage = stage
        self.start = start
        self.end = end
        self.total = 0
        self.done = 0
        self.layers = 1
        self.layers_done = 0

    def begin(self, total: int) -> None:
        self.total, self.done, self.layers_done = total, 0, 0
        self.progress.report(self.stage, self.start)

    def batch_done(self) -> None:
        self.done += 1
        self.layers_done = 0
        self._report(0.0)

    def layer_done(self) -> None:
        if self.total:
            self.layers_done += 1
            self._report(min(self.layers_done / self.layers, LAYER_SHARE_CAP))

    @contextlib.contextmanager
    def layer_hooks(self, model: torch.nn.Module) -> Iterator[None]:
        """Call ``layer_done`` after each BERT layer and LSTM of ``model`` for the block."""
        layers = [m for m in model.modules() if isinstance(m, (BertLayer, torch.nn.LSTM))]
        self.layers = max(len(layers), 1)
        handles = [layer.register_forward_hook(lambda *_: self.layer_done()) for layer in layers]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _report(self, within_batch: float) -> None:
        batches = min((self.done + within_batch) / self.total, 1.0) if self.total else 0.0
        self.progress.report(self.stage, self.start + (self.end - self.start) * batches)


class _CallCount:
    """Progress of one step of a stage, from ``start`` to ``end``, by counted calls.

    Counting reports nothing before ``begin`` and after ``finish``, so a wrapped
    function that also runs outside the step does not move the stage.
    """

    def __init__(self, progress: StageProgress, stage: str, start: float, end: float) -> None:
        self.progress = progress
        self.stage = stage
        self.start = start
        self.end = end
        self.expected = 1
        self.calls = 0
        self.stride = 1
        self.next_report = math.inf

    def begin(self, expected: int) -> None:
        self.expected = max(expected, 1)
        self.calls = 0
        self.stride = max(1, self.expected // REPORTS_PER_STEP)
        self.next_report = self.stride
        self.progress.report(self.stage, self.start)

    def finish(self) -> None:
        self.next_report = math.inf
        self.progress.report(self.stage, self.end)

    def add(self) -> None:
        """Count one call, and report once a stride of calls has passed."""
        self.calls += 1
        if self.calls >= self.next_report:
            self._report_calls()

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``function`` with each call counted."""

        def counted(*args: Any, **kwargs: Any) -> Any:
            # add() inlined, because some wrapped functions run millions of times.
            self.calls += 1
            if self.calls >= self.next_report:
                self._report_calls()
            return function(*args, **kwargs)

        return counted

    def _report_calls(self) -> None:
        self.next_report = self.calls + self.stride
        done = min(self.calls / self.expected, 1.0)
        self.progress.report(self.stage, self.start + (self.end - self.start) * done)


class _NumpyCountingZeros:
    """A stand-in for ``numpy`` in one module that counts its ``zeros`` calls."""

    def __init__(self, numpy: ModuleType, count: _CallCount) -> None:
        self._numpy = numpy
        self.zeros = count.wrap(numpy.zeros)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._numpy, name)


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


def _tokenizer_hooks(tokenizer: Any, count: _CallCount) -> tuple[Any, dict[str, Any]]:
    return (tokenizer, {"tokenize": count.wrap(tokenizer.tokenize)})


def _entity_hooks(tagger: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    model = tagger.model
    batches = _BatchCount(progress, "entities", ENTITY_SETUP_SHARE, 1.0)
    # tag() tokenizes each BookNLP token once, then layered_reader.get_batches
    # converts each word's pieces to ids once (plus [CLS] and [SEP] per sequence).
    setup = _CallCount(progress, "entities", 0.0, ENTITY_SETUP_SHARE)

    def tag(toks: Any, *args: Any, **kwargs: Any) -> Any:
        progress.report("entities", 0.0)
        setup.begin(2 * len(toks))
        with batches.layer_hooks(model):
            result = original_tag(toks, *args, **kwargs)
        progress.report("entities", 1.0)
        return result

    def tag_all(*args: Any, **kwargs: Any) -> Any:
        # tag_all(batched_wn, batched_sents, batched_data, ...): one batch each.
        setup.finish()
        batches.begin(len(args[2]))
        return original_tag_all(*args, **kwargs)

    def predict_all(*args: Any, **kwargs: Any) -> Any:
        result = original_predict_all(*args, **kwargs)
        batches.batch_done()
        return result

    original_tag = tagger.tag
    original_tag_all, original_predict_all = model.tag_all, model.predict_all
    tokenizer = model.tokenizer
    return [
        (tagger, {"tag": tag}),
        (model, {"tag_all": tag_all, "predict_all": predict_all}),
        (
            tokenizer,
            {
                "tokenize": setup.wrap(tokenizer.tokenize),
                "convert_tokens_to_ids": setup.wrap(tokenizer.convert_tokens_to_ids),
            },
        ),
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
    model = attribution.model
    batches = _BatchCount(progress, "attribution", ATTRIBUTION_SETUP_SHARE, 1.0)
    # get_representation calls numpy.zeros once, then once per quote.
    contexts = _CallCount(progress, "attribution", 0.0, ATTRIBUTION_CONTEXT_SHARE)
    # get_batches tokenizes each context word twice: for the ids and for the
    # positions of the candidates.
    setup = _CallCount(
        progress, "attribution", ATTRIBUTION_CONTEXT_SHARE, ATTRIBUTION_SETUP_SHARE
    )

    def tag(quotes: Any, *args: Any, **kwargs: Any) -> Any:
        progress.report("attribution", 0.0)
        contexts.begin(len(quotes) + 1)
        with batches.layer_hooks(model):
            result = original_tag(quotes, *args, **kwargs)
        progress.report("attribution", 1.0)
        return result

    def get_batches(texts: Any, *args: Any, **kwargs: Any) -> Any:
        contexts.finish()
        setup.begin(2 * sum(len(words) for words in texts))
        result = original_get_batches(texts, *args, **kwargs)
        setup.finish()
        batches.begin(len(result[0]))
        return result

    def forward(*args: Any, **kwargs: Any) -> Any:
        result = original_forward(*args, **kwargs)
        batches.batch_done()
        return result

    original_tag = attribution.tag
    original_get_batches, original_forward = model.get_batches, model.forward
    # QuotationAttribution's module (booknlp.english.bert_qa) uses numpy only
    # for zeros, and finds it through its global name "np" at each call.
    module = sys.modules[type(attribution).__module__]
    return [
        (attribution, {"tag": tag}),
        (model, {"get_batches": get_batches, "forward": forward}),
        _tokenizer_hooks(model.tokenizer, setup),
        (module, {"np": _NumpyCountingZeros(module.np, contexts)}),
    ]


def _name_coref_hooks(resolver: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    """Follow NameCoref's steps, which run before the GenderEM epochs.

    ``cluster_only_nouns`` spends its time in two loops over pairs:
    ``name_cluster`` calls ``get_canonical`` for every pair of distinct names,
    and ``cluster`` then calls ``calc_overlap`` for every pair of clusters.
    """
    name_pairs = _CallCount(progress, "name_coref", NAME_PROPER_SHARE, NAME_PAIRS_SHARE)
    cluster_pairs = _CallCount(progress, "name_coref", NAME_PAIRS_SHARE, NAME_CLUSTER_SHARE)
    original_canonical = resolver.get_canonical
    canonical_cache: dict[tuple[str, ...], Any] = {}

    def get_canonical(name_tokens: list[str]) -> Any:
        # Cached, because the pair loop calls this for each name once per
        # other name. The result depends only on the tokens and the alias file,
        # and BookNLP 1.0.8's callers (all in name_cluster) only read it.
        key = tuple(name_tokens)
        forms = canonical_cache.get(key)
        if forms is None:
            forms = canonical_cache[key] = original_canonical(name_tokens)
        return forms

    def name_cluster(entities: Any, is_named: Any, existing_refs: Any) -> Any:
        name_pairs.begin(_canonical_calls(original_canonical, entities, is_named, existing_refs))
        refs = original_name_cluster(entities, is_named, existing_refs)
        name_pairs.finish()
        clusters = len(set(refs) - {-1, 0})
        cluster_pairs.begin(clusters * (clusters - 1))
        return refs

    original_name_cluster = resolver.name_cluster
    steps = {
        "cluster_narrator": (0.0, NAME_PROPER_SHARE / 2),
        "cluster_identical_propers": (NAME_PROPER_SHARE / 2, NAME_PROPER_SHARE),
        "cluster_only_nouns": (NAME_PROPER_SHARE, NAME_CLUSTER_SHARE),
    }
    wrappers = {
        "name_cluster": name_cluster,
        "get_canonical": name_pairs.wrap(get_canonical),
        "calc_overlap": cluster_pairs.wrap(resolver.calc_overlap),
    }
    for name, (start, end) in steps.items():
        wrappers[name] = _around(
            getattr(resolver, name),
            lambda start=start: progress.report("name_coref", start),
            lambda end=end: progress.report("name_coref", end),
        )
    return [(resolver, wrappers)]


def _canonical_calls(
    get_canonical: Callable[[list[str]], list[list[str]]],
    entities: Any,
    is_named: Any,
    existing_refs: Any,
) -> int:
    """Return how often BookNLP 1.0.8's ``name_cluster`` will call ``get_canonical``.

    It calls it once per unique name and once per pair of a canonical form
    with another unique name, then at most once per unique name for the
    variants, and once per named mention that has no reference yet.
    """
    unique = Counter()
    for index, named in enumerate(is_named):
        if named == 1 and len(entities[index]) < 10:
            name = " ".join(entities[index]).lower()
            if name:
                unique[name] += 1
    calls = 0
    for name in unique:
        calls += 1 + len(get_canonical(name.split(" "))) * (len(unique) - 1)
    calls += len(unique)
    for index, named in enumerate(is_named):
        if named == 1 and existing_refs[index] == -1:
            calls += 1
    return calls


def _coref_hooks(coref: Any, progress: StageProgress) -> list[tuple[Any, dict[str, Any]]]:
    model = coref.model
    bert_end = COREF_SETUP_SHARE + COREF_BERT_SHARE
    batches = _BatchCount(progress, "coref", COREF_SETUP_SHARE, bert_end)
    mentions = _Counter()
    # convert_data tokenizes each BookNLP token once and get_data each word of
    # the sequences once more (plus [CLS] and [SEP] per sequence).
    setup = _CallCount(progress, "coref", 0.0, COREF_SETUP_SHARE)

    def tag(tokens: Any, *args: Any, **kwargs: Any) -> Any:
        progress.report("coref", 0.0)
        setup.begin(2 * len(tokens))
        with batches.layer_hooks(model):
            result = original_tag(tokens, *args, **kwargs)
        progress.report("coref", 1.0)
        return result

    def forward(*args: Any, **kwargs: Any) -> Any:
        # forward(matrix, index, ..., entities=...): one matrix per batch.
        setup.finish()
        batches.begin(len(args[0]))
        mentions.total = len(kwargs.get("entities") or ())
        return original_forward(*args, **kwargs)

    def get_mention_reps(*args: Any, **kwargs: Any) -> Any:
        result = original_mention_reps(*args, **kwargs)
        batches.batch_done()
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

    original_tag = coref.tag
    original_forward = model.forward
    original_mention_reps = model.get_mention_reps
    first_pass = COREF_SETUP_SHARE + COREF_BERT_SHARE
    second_pass = first_pass + (1 - first_pass) / 2
    return [
        (coref, {"tag": tag}),
        (
            model,
            {
                "forward": forward,
                "get_mention_reps": get_mention_reps,
                "get_non_quote_cands": mention_pass(model.get_non_quote_cands, first_pass),
                "get_closest_entities": mention_pass(model.get_closest_entities, second_pass),
            },
        ),
        _tokenizer_hooks(model.tokenizer, setup),
    ]


def reporting_gender_model(base: type, progress: StageProgress) -> type:
    """Return a subclass of BookNLP's ``GenderEM`` that reports its EM updates.

    ``GenderEM.tag`` calls ``process`` to collect the gendered pronouns, then
    per epoch ``update`` once per pronoun; the epochs finish the
    ``name_coref`` stage.
    """
    updates = _CallCount(progress, "name_coref", NAME_CLUSTER_SHARE, 1.0)

    class ReportingGenderEM(base):  # type: ignore[misc, valid-type]
        def process(self, *args: Any, **kwargs: Any) -> Any:
            # process returns (mentions, pronouns), one pair per update call.
            mentions, pronouns = super().process(*args, **kwargs)
            updates.begin(max(getattr(self, "num_epochs", 1), 1) * len(mentions))
            return mentions, pronouns

        def update(self, *args: Any, **kwargs: Any) -> Any:
            updates.add()
            return super().update(*args, **kwargs)

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
