"""Turn LitBank documents into subword windows with word-level labels.

Each window is a run of whole sentences of at most ``max_subwords`` subwords
(a sentence longer than that is cut into pieces). Labels sit on the first
subword of each word, and the other subwords get ``IGNORE_INDEX``.
"""

from __future__ import annotations

import dataclasses

from runner.tagger.litbank import CATEGORIES, MAX_LAYERS, Document, bio_from_spans

IGNORE_INDEX = -100
ENTITY_LABELS = ["O"] + [f"{prefix}-{c}" for c in CATEGORIES for prefix in "BI"]
ENTITY_LABEL_IDS = {label: index for index, label in enumerate(ENTITY_LABELS)}

# Casing classes, because the uncased tokenizer lowercases every word.
CASING_PAD, CASING_LOWER, CASING_TITLE, CASING_UPPER, CASING_OTHER = range(5)
CASING_NONE = 5  # no letters: punctuation and numbers
CASING_CLASSES = 6


def casing_class(word: str) -> int:
    """Return the casing class of a word (lower, Title, UPPER, other, none)."""
    letters = [char for char in word if char.isalpha()]
    if not letters:
        return CASING_NONE
    if all(char.islower() for char in letters):
        return CASING_LOWER
    if len(letters) > 1 and all(char.isupper() for char in letters):
        return CASING_UPPER
    if letters[0].isupper() and all(char.islower() for char in letters[1:]):
        return CASING_TITLE
    if len(letters) == 1:
        return CASING_TITLE
    return CASING_OTHER


@dataclasses.dataclass
class Window:
    """Model input for a run of words: subword ids plus per-subword features.

    ``word_offsets`` maps each labelled subword (a word's first) to the word's
    document offset, in order.
    """

    input_ids: list[int]
    casing_ids: list[int]
    word_offsets: list[int]
    entity_labels: list[list[int]]  # [layer][subword]
    event_labels: list[int]


def document_labels(document: Document) -> tuple[list[list[int]], list[int]]:
    """Return per-word entity label ids for each layer and event label ids."""
    length = len(document.tokens)
    layers = []
    for layer in range(MAX_LAYERS):
        spans = [
            (span.start, span.end, span.category)
            for span in document.entities
            if span.layer == layer
        ]
        layers.append([ENTITY_LABEL_IDS[x] for x in bio_from_spans(length, spans)])
    events = [0] * length
    for offset in document.events:
        events[offset] = 1
    return layers, events


# A word longer than this many subwords (a long number, a run of dashes) keeps
# only its first ones, so that any word fits into a window.
MAX_WORD_SUBWORDS = 16


def _word_pieces(tokenizer, words: list[str]) -> list[list[int]]:
    encoded = tokenizer(words, add_special_tokens=False)["input_ids"]
    # A word that the tokenizer drops entirely (e.g. a control character) still
    # needs a position for its label, so it becomes [UNK].
    return [(ids or [tokenizer.unk_token_id])[:MAX_WORD_SUBWORDS] for ids in encoded]


def _pieces(
    document: Document, word_pieces: list[list[int]], budget: int
) -> list[tuple[int, int, int]]:
    """Split sentences into (start, end exclusive, subwords) word ranges.

    Each range contains at most ``budget`` subwords, so a long sentence is cut.
    """
    pieces = []
    for start, sentence in zip(document.sentence_starts(), document.sentences):
        piece_start, size = start, 0
        for offset in range(start, start + len(sentence)):
            word_size = len(word_pieces[offset])
            if size + word_size > budget:
                pieces.append((piece_start, offset, size))
                piece_start, size = offset, 0
            size += word_size
        pieces.append((piece_start, start + len(sentence), size))
    return pieces


def make_windows(
    document: Document, tokenizer, max_subwords: int = 192
) -> list[Window]:
    """Pack the document's sentences into windows of at most ``max_subwords``."""
    if not document.tokens:
        return []  # the tokenizer fails on an empty batch
    word_pieces = _word_pieces(tokenizer, document.tokens)
    budget = max_subwords - 2  # room for [CLS] and [SEP]
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for start, end, piece_size in _pieces(document, word_pieces, budget):
        if current and size + piece_size > budget:
            groups.append(current)
            current, size = [], 0
        current.extend(range(start, end))
        size += piece_size
    if current:
        groups.append(current)
    labels = document_labels(document)
    words = document.tokens
    return [
        _build_window(group, word_pieces, words, labels, tokenizer)
        for group in groups
    ]


def _build_window(
    offsets: list[int],
    word_pieces: list[list[int]],
    words: list[str],
    labels: tuple[list[list[int]], list[int]],
    tokenizer,
) -> Window:
    entity_layers, events = labels
    input_ids = [tokenizer.cls_token_id]
    casing_ids = [CASING_PAD]
    layer_labels: list[list[int]] = [[IGNORE_INDEX] for _ in entity_layers]
    event_labels = [IGNORE_INDEX]
    for offset in offsets:
        casing = casing_class(words[offset])
        for position, piece in enumerate(word_pieces[offset]):
            input_ids.append(piece)
            casing_ids.append(casing)
            first = position == 0
            for layer, column in enumerate(layer_labels):
                column.append(entity_layers[layer][offset] if first else IGNORE_INDEX)
            event_labels.append(events[offset] if first else IGNORE_INDEX)
    input_ids.append(tokenizer.sep_token_id)
    casing_ids.append(CASING_PAD)
    for column in layer_labels:
        column.append(IGNORE_INDEX)
    event_labels.append(IGNORE_INDEX)
    return Window(input_ids, casing_ids, list(offsets), layer_labels, event_labels)
