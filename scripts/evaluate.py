"""Score the LitBank tagger on LitBank documents.

Runs the tagger (the shipped delta on the base encoder) over the documents in
``--litbank DIR`` and prints precision, recall and F1 per task: entities match
on exact span and category with all layers pooled, events on exact token. The
last line is JSON keyed by task (``entities``, ``events``) with ``precision``,
``recall`` and ``f1`` as percentages (and with ``--interval``, ``f1_low`` and
``f1_high``, the bounds of the 95% interval). A document without an events file
is left out of the event scores.

    .venv/bin/python scripts/evaluate.py --litbank ../shared/data/litbank --split test
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runner.tagger import litbank  # noqa: E402
from runner.tagger.metrics import (  # noqa: E402
    bootstrap_f1_interval,
    document_counts,
    score_documents,
    score_report,
)
from runner.tagger.split import SPLIT_FILE, load_or_create_split  # noqa: E402

TASKS = ("entities", "events")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--litbank", type=Path, required=True,
        help="folder with LitBank entities/ and events/ holding the gold labels",
    )
    parser.add_argument(
        "--predictions", type=Path,
        help="write predictions here as entities/ID.tsv and events/ID.tsv",
    )
    parser.add_argument(
        "--split", choices=("all", "train", "dev", "test"), default="all",
        help="score only this part of the pinned split (default: all documents)",
    )
    parser.add_argument(
        "--split-file", type=Path, default=SPLIT_FILE,
        help="JSON with train/dev/test document ids (default: %(default)s)",
    )
    parser.add_argument(
        "--score-only", type=Path, metavar="PREDICTED_DIR",
        help="score the tsv files in this folder instead of running the tagger",
    )
    parser.add_argument(
        "--interval", action="store_true",
        help="also print a 95%% bootstrap interval of each F1, resampling documents",
    )
    parser.add_argument("--weights", type=Path, help="folder of the tagger delta")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return parser.parse_args(argv)


def select_documents(args: argparse.Namespace) -> list[str]:
    doc_ids = litbank.list_documents(args.litbank)
    if args.split == "all":
        return doc_ids
    if not args.split_file.exists():
        raise SystemExit(
            f"split file not found: {args.split_file}; give an existing one with "
            "--split-file, or run scripts/train_tagger.py, which creates it"
        )
    return load_or_create_split(doc_ids, args.split_file)[args.split]


def read_predictions(folder: Path, gold: list[litbank.Document]):
    """Read the predicted documents of ``gold`` from ``folder``.

    A document without a predicted entity file counts as an empty prediction,
    with a warning. Raises ValueError when a file's tokens differ from the
    gold tokens, because every span would then be scored at the wrong place.
    """
    predicted = []
    for document in gold:
        if not (folder / "entities" / f"{document.doc_id}.tsv").exists():
            warn(f"no prediction for {document.doc_id} in {folder}; scored as empty")
            continue
        prediction = litbank.read_document(folder, document.doc_id)
        if not prediction.events_annotated and document.events_annotated:
            warn(
                f"no predicted event file for {document.doc_id} in {folder}; "
                "its events are scored as empty"
            )
        if prediction.tokens != document.tokens:
            raise ValueError(
                f"the tokens of {document.doc_id} in {folder} differ from the gold "
                f"tokens in {len(prediction.tokens)} against {len(document.tokens)} "
                "tokens; predictions must keep the gold files' tokens and sentences"
            )
        predicted.append(prediction)
    return predicted


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def predict(args: argparse.Namespace, gold: list[litbank.Document]):
    if args.score_only:
        return read_predictions(args.score_only, gold)
    import torch

    from runner.tagger.tagger import Tagger

    torch.set_num_threads(args.threads)
    tagger = Tagger.load(args.weights)
    return [tagger.tag(document) for document in gold]


def write_predictions(out: Path, predicted: list[litbank.Document]) -> None:
    for document in predicted:
        litbank.write_entities(document, out / "entities" / f"{document.doc_id}.tsv")
        litbank.write_events(document, out / "events" / f"{document.doc_id}.tsv")


def check_predictions_folder(args: argparse.Namespace) -> None:
    """Reject a --predictions folder that would overwrite gold files; create it.

    Creating it before tagging makes an unwritable folder fail at once.
    """
    out = args.predictions.resolve()
    gold = args.litbank.resolve()
    if out == gold or gold in out.parents:
        raise SystemExit(
            f"--predictions {args.predictions} is inside --litbank {args.litbank} "
            "and would overwrite gold files; write predictions to another folder"
        )
    for sub in ("entities", "events"):
        (args.predictions / sub).mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        evaluate(args)
    except (ValueError, OSError) as error:
        raise SystemExit(f"evaluate.py: {error}") from error


def evaluate(args: argparse.Namespace) -> None:
    if args.predictions:
        check_predictions_folder(args)
    doc_ids = select_documents(args)
    if not doc_ids:
        raise SystemExit(
            f"no LitBank documents to score in {args.litbank} (split {args.split})"
        )
    gold = [litbank.read_document(args.litbank, doc_id) for doc_id in doc_ids]
    unannotated = [d.doc_id for d in gold if not d.events_annotated]
    if len(unannotated) == len(gold):
        warn(f"no event files in {args.litbank}/events, so events are not scored")
    elif unannotated:
        warn(
            f"no event file for {', '.join(unannotated)} in {args.litbank}/events; "
            "events are scored on the other documents"
        )
    predicted = predict(args, gold)
    if args.predictions:
        write_predictions(args.predictions, predicted)
    scores = score_documents(predicted, gold)
    print(f"{len(gold)} documents, {sum(len(d.tokens) for d in gold)} tokens")
    if args.interval:
        rows = document_counts(predicted, gold)
        if len(rows) == 1:
            warn("one document: the interval cannot show a spread over documents")
        for task in TASKS:
            low, high = bootstrap_f1_interval(rows, task)
            print(
                f"{task} F1 95% interval over resampled documents: "
                f"{low:.1f} to {high:.1f}"
            )
            # The JSON line carries them too, for scripts that read only it.
            scores[task]["f1_low"], scores[task]["f1_high"] = low, high
    print(score_report(scores, TASKS))


if __name__ == "__main__":
    main()
