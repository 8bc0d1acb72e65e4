"""Turn LitBank documents into subword windows with word-level labels.

Each window is a run of whole sentences of at most ``max_subwords`` subwords
(a sentence longer than that is cut into pieces). Event labels sit on the
first subword of each word, and the other subwords get ``IGNORE_INDEX``.
Entity labels are the gold mentions as spans of window words.
"""

from __future__ import annotations

import dataclasses

from runner.tagger.litbank import CATEGORIES, Document

IGNORE_INDEX = -100

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
    document offset, in order. Word-level fields are indexed like it.
    """

    input_ids: list[int]
    casing_ids: list[int]
    word_offsets: list[int]
    # Per word: the position of its first subword in ``input_ids``.
    word_starts: list[int]
    event_labels: list[int]  # per subword
    # Per word: the index of its sentence in the document.
    sentence_ids: list[int]
    # Gold mentions as (first word, last word, class) with class 1 or more.
    entity_spans: list[tuple[int, int, int]]


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
    # Built once: ``document.tokens`` makes a new list on every call.
    labels = _WordLabels(document)
    return [
        _build_window(group, word_pieces, document, labels, tokenizer)
        for group in groups
    ]


def _window_spans(document: Document, offsets: list[int]) -> list[tuple[int, int, int]]:
    """Return the document's mentions inside the window, in window word indices.

    A mention cut by the window's edge (only in a sentence too long for one
    window) is left out.
    """
    first, last = offsets[0], offsets[-1]
    return sorted(
        {
            (span.start - first, span.end - first, CATEGORIES.index(span.category) + 1)
            for span in document.entities
            if first <= span.start and span.end <= last
        }
    )


class _WordLabels:
    """Per-word text, event label and sentence index of a document."""

    def __init__(self, document: Document):
        self.words = document.tokens
        # A document without event annotations teaches the event head nothing.
        unknown = IGNORE_INDEX if not document.events_annotated else 0
        self.events = [unknown] * len(self.words)
        for offset in document.events:
            self.events[offset] = 1
        self.sentence_of = [
            index for index, sentence in enumerate(document.sentences) for _ in sentence
        ]


def _build_window(
    offsets: list[int],
    word_pieces: list[list[int]],
    document: Document,
    labels: _WordLabels,
    tokenizer,
) -> Window:
    words, events = labels.words, labels.events
    input_ids = [tokenizer.cls_token_id]
    casing_ids = [CASING_PAD]
    event_labels = [IGNORE_INDEX]
    word_starts = []
    for offset in offsets:
        casing = casing_class(words[offset])
        word_starts.append(len(input_ids))
        for position, piece in enumerate(word_pieces[offset]):
            input_ids.append(piece)
            casing_ids.append(casing)
            event_labels.append(events[offset] if position == 0 else IGNORE_INDEX)
    input_ids.append(tokenizer.sep_token_id)
    casing_ids.append(CASING_PAD)
    event_labels.append(IGNORE_INDEX)
    return Window(
        input_ids,
        casing_ids,
        list(offsets),
        word_starts,
        event_labels,
        sentence_ids=[labels.sentence_of[offset] for offset in offsets],
        entity_spans=_window_spans(document, offsets),
    )
