"""The "spacy" engine: spaCy parse, entities and events, rule-based quotes and characters.

Two models: ``litbank`` (the default) tags nested entities and events with the
LitBank tagger in ``runner.tagger``; ``fast`` uses spaCy's own NER and no events.

A job runs in these stages, each reported through ``ProgressReporter`` with the
weights in ``STAGE_WEIGHTS``:

- ``layout``: decode, normalise line endings, cut Project Gutenberg boilerplate,
  split paragraphs and headings, and estimate the token count.
- ``quotes``: find quotes from their marks (before parsing, because the parser's
  sentence starts depend on them).
- ``parse``: spaCy over chunks of whole paragraphs, then (model ``litbank``)
  the tagger over the same chunk; token rows go to a temporary file, only
  compact arrays stay in memory. Progress moves per tagger batch.
- ``characters``: mentions, pronoun links, name clusters and quote speakers.
- ``write``: stream the result JSON and rename it into place.

Offsets in the result are Python ``str`` indices into the submitted text decoded
from UTF-8, with a leading byte-order mark (if any) counted as character 0.
"""

from __future__ import annotations

import bisect
import logging
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from spacy import about as spacy_about

from runner.analysis.cast import Cast, build_cast
from runner.analysis.chunks import estimate_tokens, make_pieces, plan_chunks
from runner.analysis.entities import NOM, PROP, Mention, resolve_names
from runner.analysis.layout import (
    AnalysedSpan,
    Paragraph,
    find_analysed_span,
    normalize_text,
    split_paragraphs,
)
from runner.analysis.nesting import nest_mentions
from runner.analysis.quotes import Quote, find_quotes
from runner.analysis.result_writer import TokenSpool, write_result
from runner.analysis.script_dialogue import cue_mentions
from runner.analysis.sections import ResultSections
from runner.analysis.speakers import QuoteTokens
from runner.analysis.token_table import TokenTable
from runner.device import detect_device
from runner.engine import Engine, JobInputError, JobRequest, ProgressReporter
from runner.engines.spacy_parse import DEFAULT_BATCH_SIZE, ChunkParser
from runner.engines.spacy_pipeline import load_pipeline
from runner.protocol import ENGINES
from runner.tagger.tagger import Tagger

logger = logging.getLogger(__name__)

ENGINE_NAME = "spacy"
TAGGER_MODEL = "litbank"
# Share of a chunk's parse-stage time that spaCy takes when the tagger runs too;
# the tagger takes the rest. Measured on The Secret Garden on a 2-core CPU:
# spaCy without NER 7.7 s, the tagger 24.2 s (scripts/BENCHMARKS.md).
SPACY_SHARE_WITH_TAGGER = 0.24

# Relative share of the progress bar per stage, in the order the stages run. They
# follow measured run times: parsing took 97 % of a run and characters 2.5 % on a
# 2-core CPU VM, for The Secret Garden and for a book of a million tokens.
STAGE_WEIGHTS: dict[str, float] = {
    "layout": 0.5,
    "quotes": 0.5,
    "parse": 95.0,
    "characters": 3.0,
    "write": 1.0,
}


class SpacyEngine(Engine):
    """Runs jobs with one spaCy pipeline, loaded when the engine is built."""

    name = ENGINE_NAME
    STAGE_WEIGHTS = STAGE_WEIGHTS
    batch_size: int | None = DEFAULT_BATCH_SIZE

    def __init__(self) -> None:
        self.nlp, self.model_package = load_pipeline()
        self.device, self.cuda_device = detect_device()
        self.spec = ENGINES[ENGINE_NAME]
        started = time.perf_counter()
        self.tagger = Tagger.load().to(self.device)
        logger.info(
            "loaded the LitBank tagger on %s in %.1fs",
            self.device,
            time.perf_counter() - started,
        )

    def describe(self) -> dict[str, Any]:
        """Return the engine description.

        spaCy's small model always runs on the CPU; ``device`` is the tagger's.
        """
        return {
            "engine": self.name,
            "components": list(self.spec.components),
            "models": list(self.spec.models),
            "model_components": {
                model: list(self.spec.components_for(model))
                for model in self.spec.models
            },
            "default_model": self.spec.default_model,
            "tagger": self.tagger.describe(),
            "device": self.device,
            "cuda_device": self.cuda_device,
            "versions": {
                "python": platform.python_version(),
                "spacy": spacy_about.__version__,
                "spacy_model": f"{self.model_package} {self.nlp.meta.get('version')}",
                "torch": torch.__version__,
            },
        }

    def run(self, job: JobRequest, progress: ProgressReporter) -> dict[str, Any]:
        """Analyse ``job.text_path`` and write the result to ``job.result_path``."""
        return _JobRun(self, job, progress).run()


def create_engine() -> Engine:
    """Build the spaCy engine; the entry point ``runner.engines.load_engine`` calls."""
    return SpacyEngine()


class _JobRun:
    """The state of one job while its stages run."""

    def __init__(
        self, engine: SpacyEngine, job: JobRequest, progress: ProgressReporter
    ) -> None:
        self.engine = engine
        self.job = job
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.text = ""
        self.normalized = ""
        self.span = AnalysedSpan(0, 0, False)
        self.paragraphs: list[Paragraph] = []
        self.quotes: list[Quote] = []
        self.table = TokenTable()
        self.mentions: list[Mention] = []
        self.event_tokens: list[int] = []

    def run(self) -> dict[str, Any]:
        logger.info("job %s: analysing %s", self.job.job_id, self.job.text_path)
        directory = os.path.dirname(os.path.abspath(self.job.result_path))
        spool = TokenSpool(directory) if "tokens" in self.job.components else None
        try:
            with self._stage("layout"):
                self._layout()
            with self._stage("quotes"):
                self.quotes = find_quotes(self.normalized, self.paragraphs)
            with self._stage("parse"):
                self._parse(spool)
            with self._stage("characters"):
                quote_tokens = self._quote_tokens()
                if any(quote.cue is not None for quote in quote_tokens):
                    self.mentions = cue_mentions(
                        self.mentions, quote_tokens, self._word_at
                    )
                self.mentions = nest_mentions(
                    _fit_to_quotes(self.mentions, quote_tokens, self._word_at)
                )
                cast = build_cast(self.mentions, quote_tokens, self.table, self.text)
            with self._stage("write"):
                self._write(spool, quote_tokens, cast)
        finally:
            if spool is not None:
                spool.remove()
        stats = {
            "tokens": len(self.table),
            "characters": len(cast.characters),
            "quotes": len(quote_tokens),
            "entities": len(self.mentions),
            "events": len(self.event_tokens),
        }
        logger.info(
            "job %s: done %s in %.1fs",
            self.job.job_id,
            stats,
            # The "parse.spacy" and "parse.tagger" parts are inside "parse".
            sum(self.timings[stage] for stage in STAGE_WEIGHTS),
        )
        return stats

    @contextmanager
    def _stage(self, stage: str) -> Iterator[None]:
        self.progress.update(stage, 0.0)
        started = time.perf_counter()
        yield
        self.timings[stage] = round(time.perf_counter() - started, 3)
        self.progress.update(stage, 1.0)
        logger.debug(
            "job %s: stage %s done in %.1fs",
            self.job.job_id,
            stage,
            self.timings[stage],
        )

    def _layout(self) -> None:
        self.text = _read_text(self.job.text_path)
        normalized = normalize_text(self.text)
        self.span = find_analysed_span(normalized)
        self.paragraphs = split_paragraphs(normalized, self.span.start, self.span.end)
        self.normalized = normalized
        self.progress.tokens_total = estimate_tokens(
            normalized, self.span.start, self.span.end
        )

    def _parse(self, spool: TokenSpool | None) -> None:
        pieces = make_pieces(self.normalized, self.paragraphs)
        chunks = plan_chunks(pieces)
        opening = [offset for quote in self.quotes for offset in quote.open_marks]
        closing = [
            quote.close_mark for quote in self.quotes if quote.close_mark is not None
        ]
        tagger = self.engine.tagger if self.job.model == TAGGER_MODEL else None
        chunk_share = SPACY_SHARE_WITH_TAGGER if tagger is not None else 1.0
        chunk_number = 0

        def tagger_batch_done(fraction: float) -> None:
            done = chunk_number + chunk_share + (1 - chunk_share) * fraction
            self.progress.update("parse", done / len(chunks))

        parser = ChunkParser(
            self.engine.nlp,
            self.normalized,
            spool,
            opening,
            closing,
            batch_size=self.engine.batch_size or DEFAULT_BATCH_SIZE,
            tagger=tagger,
            on_tagger_batch=tagger_batch_done,
            mark_events="events" in self.job.components,
        )
        remaining = sum(piece.estimated_tokens for piece in pieces)
        for chunk_number, chunk in enumerate(chunks):
            chunk_pieces = [pieces[index] for index in chunk]
            parser.parse_chunk(chunk_pieces)
            remaining -= sum(piece.estimated_tokens for piece in chunk_pieces)
            done = len(parser.table)
            # The estimate for the rest replaces the first guess as chunks finish.
            self.progress.tokens_total = done + max(remaining, 0)
            self.progress.update("parse", (chunk_number + 1) / len(chunks), done)
        self.table = parser.table
        self.table.heading_paragraphs = [
            index
            for index, paragraph in enumerate(self.paragraphs)
            if paragraph.heading
        ]
        self.event_tokens = parser.event_tokens
        for part, seconds in parser.seconds.items():
            if seconds:
                self.timings[f"parse.{part}"] = round(seconds, 3)
        names = resolve_names(parser.name_candidates, parser.casing)
        name_at = _name_spans_by_token(names)
        common = _apart_from_names(parser.mentions, name_at)
        mentions = common + names + _unnamed(parser.title_mentions, name_at)
        self.mentions = sorted(mentions, key=lambda m: (m.start, m.end))

    def _quote_tokens(self) -> list[QuoteTokens]:
        result = []
        for quote in self.quotes:
            first = self.table.first_token_from(quote.start)
            last = self.table.last_token_before(quote.end)
            if first > last or first >= len(self.table):
                continue
            cue = None
            if quote.cue is not None:
                cue_first = self.table.first_token_from(quote.cue[0])
                cue_last = self.table.last_token_before(quote.cue[1])
                if cue_first <= cue_last:
                    cue = (cue_first, cue_last)
            result.append(
                QuoteTokens(
                    first,
                    last,
                    self.table.paragraph_of(first),
                    self.table.paragraph_of(last),
                    cue,
                )
            )
        return result

    def _word_at(self, token: int) -> str:
        return self.text[self.table.start[token] : self.table.end[token]]

    def _write(
        self, spool: TokenSpool | None, quotes: list[QuoteTokens], cast: Cast
    ) -> None:
        sections = ResultSections(
            self.text,
            self.table,
            self.mentions,
            quotes,
            cast,
            self.job.components,
            self.event_tokens,
        )
        header = {
            "job_id": self.job.job_id,
            "book_id": self.job.book_id,
            "engine": ENGINE_NAME,
            "model": self.job.model,
            "components": list(self.job.components),
            "device": self.engine.device if self.job.model == TAGGER_MODEL else "cpu",
            "text": {
                "chars": len(self.text),
                "tokens": len(self.table),
                "sentences": len(self.table.sentence_first),
                "paragraphs": len(self.paragraphs),
                "analysed_span": [self.span.start, self.span.end],
                "boilerplate_removed": self.span.boilerplate_removed,
            },
        }
        started = time.perf_counter()

        def trailer() -> dict[str, Any]:
            timings = dict(self.timings, write=round(time.perf_counter() - started, 3))
            return {"timings": timings}

        write_result(
            self.job.result_path,
            header,
            spool,
            sections.items(),
            lambda fraction: self.progress.update("write", 0.9 * fraction),
            trailer,
        )


def _read_text(path: str) -> str:
    """Read ``path`` as UTF-8 exactly as stored, line endings included.

    Raises:
        JobInputError: the file is missing or not valid UTF-8.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError as error:
        raise JobInputError(
            f"text file {path!r} not found; resubmit the job"
        ) from error
    except UnicodeDecodeError as error:
        raise JobInputError(
            f"text file {path!r} is not valid UTF-8 at byte {error.start}; "
            "re-encode it as UTF-8 and resubmit"
        ) from error


def _name_spans_by_token(names: list[Mention]) -> dict[int, tuple[int, int]]:
    """Map each token inside a name mention to that mention's (start, end)."""
    name_at: dict[int, tuple[int, int]] = {}
    for name in names:
        for token in range(name.start, name.end + 1):
            name_at[token] = (name.start, name.end)
    return name_at


def _unnamed(
    title_mentions: list[Mention], name_at: dict[int, tuple[int, int]]
) -> list[Mention]:
    """Return the tagger's proper-noun spans that no name mention covers.

    A title that is no name alone ("Her Majesty", "His Lordship") still marks
    a mention, so it stays as a common noun phrase.
    """
    return [mention for mention in title_mentions if mention.head not in name_at]


def _apart_from_names(
    mentions: list[Mention], name_at: dict[int, tuple[int, int]]
) -> list[Mention]:
    """Drop the NOM mentions that repeat, cross or lie inside a name mention.

    The tagger can call a name it reads as a common noun ("Traddles") NOM while
    the name rules find it too, or end a span inside a title that the name
    rules extend ("The Reverend" against "Reverend Mr. Collins").
    """
    apart = []
    for mention in mentions:
        if mention.kind == NOM and _clashes(mention, name_at):
            continue
        apart.append(mention)
    return apart


def _clashes(mention: Mention, name_at: dict[int, tuple[int, int]]) -> bool:
    """Return True when a name repeats, crosses or contains ``mention``."""
    for token in (mention.start, mention.end):
        span = name_at.get(token)
        if span is None:
            continue
        contains_name = mention.start <= span[0] and span[1] <= mention.end
        if not contains_name or span == (mention.start, mention.end):
            return True
    return False


def _fit_to_quotes(
    mentions: list[Mention], quotes: list[QuoteTokens], word_at
) -> list[Mention]:
    """Mark the mentions inside a quote, and cut those across a quote's edge.

    The tagger is given sentences but no quote boundaries, so it can join a
    speech tag to the speech: "her mother, soon afterwards, “and so the
    Collinses". Such a span is wrong at both ends, so it keeps only the words
    around its head up to the nearest punctuation ("her mother"). A mention
    that contains a whole quote (the “Spouter” Inn) is left alone. A cut mention
    that repeats another one, or a name, whose words would change, is dropped.
    """
    starts = [quote.start_token for quote in quotes]

    def quote_of(token: int) -> int | None:
        position = bisect.bisect_right(starts, token) - 1
        if position >= 0 and token <= quotes[position].end_token:
            return position
        return None

    def is_word(token: int) -> bool:
        return any(char.isalnum() for char in word_at(token))

    spans = {(mention.start, mention.end) for mention in mentions}
    fitted = []
    for mention in mentions:
        region = quote_of(mention.start)
        if region == quote_of(mention.end):
            mention.in_quote = region is not None
            fitted.append(mention)
            continue
        start = end = mention.head
        while start > mention.start and is_word(start - 1):
            start -= 1
        while end < mention.end and is_word(end + 1):
            end += 1
        if (start, end) in spans or mention.kind == PROP:
            continue
        mention.start, mention.end = start, end
        mention.words = tuple(word_at(token) for token in range(start, end + 1))
        mention.in_quote = quote_of(mention.head) is not None
        spans.add((start, end))
        fitted.append(mention)
    return fitted
