"""Score the engine's quotes, speakers and pronouns on LitBank's annotations.

Rebuilds each document's text from LitBank's tokenized sentences, runs the spaCy
engine on it as a job would, and prints precision, recall and F1 for quotes
(exact first and last token), speakers (see runner/tagger/quote_metrics.py) and
the characters of third-person pronouns (see runner/tagger/pronoun_metrics.py).
The last line is JSON keyed by task (``quotes``, ``speakers``, ``pronouns``)
with ``precision``, ``recall`` and ``f1`` as percentages.

    .venv/bin/python scripts/evaluate_quotes.py --litbank ../shared/data/litbank

LitBank keeps no paragraph breaks, and the engine's rules read paragraphs.
Novels start a paragraph at each turn of dialogue, so a sentence starts one
here when it opens with a quotation mark or a dash, or follows a sentence that
ended with a quotation mark. It does not when a quote is still open or when it
starts in lower case ("cried his wife"). Runs of narration stay one paragraph.
The scores are therefore a little below what the same rules reach on the
original layout.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runner.analysis.pronouns import FIRST_PERSON_PRONOUNS  # noqa: E402
from runner.engine import JobRequest, ProgressReporter  # noqa: E402
from runner.engines.spacy_engine import STAGE_WEIGHTS, create_engine  # noqa: E402
from runner.tagger import litbank_quotes  # noqa: E402
from runner.tagger.litbank_quotes import QuoteDocument  # noqa: E402
from runner.tagger.metrics import Counts, score_report  # noqa: E402
from runner.tagger.pronoun_metrics import pronoun_counts  # noqa: E402
from runner.tagger.quote_metrics import (  # noqa: E402
    PredictedQuote,
    SpeakerCounts,
    character_chains,
    quote_counts,
    speaker_counts,
)
from runner.tagger.split import SPLIT_FILE, load_or_create_split  # noqa: E402

TASKS = ("quotes", "speakers", "pronouns")
COMPONENTS = ("tokens", "entities", "quotes", "characters")

_NO_SPACE_BEFORE = frozenset(",.;:!?)]”’…") | {"n't", "n’t"}
_NO_SPACE_AFTER = frozenset("([“‘")
_CONTRACTIONS = ("'s", "'ll", "'re", "'ve", "'d", "'m", "’s", "’ll", "’re", "’ve",
                 "’d", "’m")
_OPENING = frozenset("“‘")
_CLOSING = frozenset("”’")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--litbank", type=Path, required=True,
        help="folder with LitBank quotations/ and coref/ holding the gold labels",
    )
    parser.add_argument(
        "--split", choices=("all", "train", "dev", "test"), default="all",
        help="score only this part of the tagger's pinned split (default: all "
        "documents; the tagger trained on the train part's entities)",
    )
    parser.add_argument(
        "--split-file", type=Path, default=SPLIT_FILE,
        help="JSON with train/dev/test document ids (default: %(default)s)",
    )
    parser.add_argument(
        "--model", choices=("litbank", "fast"), default="litbank",
        help="the engine's model (default: %(default)s)",
    )
    return parser.parse_args(argv)


def rebuild_text(sentences: list[list[str]]) -> tuple[str, list[int], list[int]]:
    """Return the text and each token's start and end offset in it.

    Punctuation attaches to its word, and paragraphs follow the rule in the
    module docstring.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    length = 0
    open_quote = False
    previous_closed = True
    for index, sentence in enumerate(sentences):
        opens = sentence[0] in _OPENING or sentence[0] in ('"', "—", "--")
        if index:
            continues = sentence[0][:1].islower()  # "cried his wife" after a quote
            new_paragraph = not open_quote and not continues and (
                opens or previous_closed
            )
            separator = "\n\n" if new_paragraph else " "
            pieces.append(separator)
            length += len(separator)
        glue = True
        for token in sentence:
            # Only double marks keep the state: single ones are mostly nested.
            straight_opens = token == '"' and not open_quote
            attaches = token in _NO_SPACE_BEFORE or token.startswith(_CONTRACTIONS)
            if not glue and not attaches and not (token == '"' and open_quote):
                pieces.append(" ")
                length += 1
            starts.append(length)
            pieces.append(token)
            length += len(token)
            ends.append(length)
            if token == "“" or straight_opens:
                open_quote = True
            elif token in ('"', "”"):
                open_quote = False
            glue = token in _NO_SPACE_AFTER or straight_opens
        last = sentence[-1]
        previous_closed = last in _CLOSING or (last == '"' and not open_quote)
    return "".join(pieces), starts, ends


def run_engine(engine, text: str, model: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        text_path = Path(folder) / "book.txt"
        text_path.write_text(text, encoding="utf-8")
        result_path = Path(folder) / "result.json"
        job = JobRequest(
            "evaluate", str(text_path), str(result_path), COMPONENTS, model, "litbank"
        )
        reporter = ProgressReporter(lambda _message: None, lambda: False, STAGE_WEIGHTS)
        engine.run(job, reporter)
        return orjson.loads(result_path.read_bytes())


def to_gold(offset_starts: list[int], char: int) -> int:
    """Return the gold token at a character offset, or the one before a gap."""
    return max(bisect.bisect_right(offset_starts, char) - 1, 0)


def score_document(
    engine, document: QuoteDocument, model: str
) -> tuple[Counts, SpeakerCounts, Counts]:
    text, starts, _ends = rebuild_text(document.sentences)
    result = run_engine(engine, text, model)
    tokens = result["tokens"]

    def gold_span(first: int, last: int) -> tuple[int, int]:
        return to_gold(starts, tokens[first]["start"]), to_gold(
            starts, tokens[last]["end"] - 1
        )

    predicted = [
        PredictedQuote(
            to_gold(starts, quote["start"]),
            to_gold(starts, quote["end"] - 1),
            quote["speaker"]["character_id"] if quote["speaker"] else None,
        )
        for quote in result["quotes"]
    ]
    # A quote's "I" and "me" get their character from the quote's speaker, so
    # letting them vote would score the speakers against themselves.
    quoted = {
        token
        for quote in result["quotes"]
        for token in range(quote["start_token"], quote["end_token"] + 1)
    }
    mentions = [
        (entity["character_id"], *gold_span(entity["start_token"], entity["end_token"]))
        for entity in result["entities"]
        if entity.get("character_id") is not None
        and not (
            entity["start_token"] in quoted
            and entity["text"].lower() in FIRST_PERSON_PRONOUNS
        )
    ]
    chain_of_character = character_chains(mentions, document.chains)
    speakers = speaker_counts(
        predicted,
        document.quotes,
        chain_of_character,
        lambda speaker: litbank_quotes.speaker_chains(document, speaker),
    )
    pronouns = pronoun_counts(mentions, document.chains, document.tokens)
    return quote_counts(predicted, document.quotes), speakers, pronouns


def select_documents(args: argparse.Namespace) -> list[str]:
    doc_ids = litbank_quotes.list_quote_documents(args.litbank)
    if args.split == "all":
        return doc_ids
    if not args.split_file.exists():
        raise SystemExit(
            f"split file not found: {args.split_file}; give an existing one with "
            "--split-file"
        )
    chosen = set(load_or_create_split(doc_ids, args.split_file)[args.split])
    return [doc_id for doc_id in doc_ids if doc_id in chosen]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        evaluate(args)
    except (ValueError, OSError) as error:
        raise SystemExit(f"evaluate_quotes.py: {error}") from error


def evaluate(args: argparse.Namespace) -> None:

    doc_ids = select_documents(args)
    if not doc_ids:
        raise SystemExit(f"no LitBank quotation documents in {args.litbank}")
    engine = create_engine()
    quotes, speakers, pronouns = Counts(), SpeakerCounts(), Counts()
    for doc_id in doc_ids:
        document = litbank_quotes.read_quote_document(args.litbank, doc_id)
        found, attributed, resolved = score_document(engine, document, args.model)
        for name in ("true_positives", "predicted", "gold"):
            setattr(quotes, name, getattr(quotes, name) + getattr(found, name))
            total = getattr(speakers.counts, name) + getattr(attributed.counts, name)
            setattr(speakers.counts, name, total)
            setattr(pronouns, name, getattr(pronouns, name) + getattr(resolved, name))
        speakers.unresolved += attributed.unresolved
        speakers.unmatched += attributed.unmatched
    scores = {
        "quotes": quotes.scores(),
        "speakers": speakers.counts.scores(),
        "pronouns": pronouns.scores(),
    }
    print(
        f"{len(doc_ids)} documents, {quotes.gold} gold quotes; speakers scored on "
        f"{speakers.counts.gold} (not scored: {speakers.unresolved} whose speaker "
        f"names no single chain, {speakers.unmatched} with no overlapping quote); "
        f"{pronouns.gold} third-person pronouns in chains with a name or noun phrase"
    )
    print(score_report(scores, TASKS))


if __name__ == "__main__":
    main()
