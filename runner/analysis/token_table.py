"""Compact per-token arrays kept for the whole book while the rows go to disk.

A million tokens cost about 20 MB here, against well over a gigabyte as Python
dicts. Labels (POS, fine tag, dependency) are stored as small integer codes.
"""

from __future__ import annotations

import bisect
from array import array


class LabelCodes:
    """Two-way map between label strings and small integer codes."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self.labels: list[str] = []

    def code(self, label: str) -> int:
        """Return the code of ``label``, assigning the next free one if it is new."""
        found = self._codes.get(label)
        if found is None:
            found = len(self.labels)
            self._codes[label] = found
            self.labels.append(label)
        return found


class TokenTable:
    """Token offsets, sentence ids, heads and labels, indexed by global token id.

    Attributes:
        start, end: character offsets of each token in the submitted text.
        sentence: sentence id of each token.
        head: global token id of the syntactic head (the token itself for a root).
        pos, tag, dep: label codes, decoded with ``pos_of``, ``tag_of``, ``dep_of``.
        sentence_first: first token id of each sentence.
        sentence_paragraph: paragraph id of each sentence.
        heading_paragraphs: the sorted ids of the paragraphs that are headings
            ("CHAPTER II"), set by the engine after parsing.
    """

    def __init__(self) -> None:
        self.start = array("i")
        self.end = array("i")
        self.sentence = array("i")
        self.head = array("i")
        self.pos = array("H")
        self.tag = array("H")
        self.dep = array("H")
        self.sentence_first = array("i")
        self.sentence_paragraph = array("i")
        self.heading_paragraphs: list[int] = []
        self.pos_codes = LabelCodes()
        self.tag_codes = LabelCodes()
        self.dep_codes = LabelCodes()

    def __len__(self) -> int:
        return len(self.start)

    def append(
        self, start: int, end: int, head: int, pos: str, tag: str, dep: str
    ) -> None:
        """Add the next token; it belongs to the most recently started sentence."""
        self.start.append(start)
        self.end.append(end)
        self.sentence.append(len(self.sentence_first) - 1)
        self.head.append(head)
        self.pos.append(self.pos_codes.code(pos))
        self.tag.append(self.tag_codes.code(tag))
        self.dep.append(self.dep_codes.code(dep))

    def start_sentence(self, paragraph_id: int) -> int:
        """Open a new sentence at the next token and return its id."""
        self.sentence_first.append(len(self.start))
        self.sentence_paragraph.append(paragraph_id)
        return len(self.sentence_first) - 1

    def pos_of(self, token: int) -> str:
        return self.pos_codes.labels[self.pos[token]]

    def tag_of(self, token: int) -> str:
        return self.tag_codes.labels[self.tag[token]]

    def dep_of(self, token: int) -> str:
        return self.dep_codes.labels[self.dep[token]]

    def paragraph_of(self, token: int) -> int:
        return self.sentence_paragraph[self.sentence[token]]

    def heading_between(self, first_paragraph: int, last_paragraph: int) -> bool:
        """Return True when a heading paragraph lies after the first, up to the last."""
        position = bisect.bisect_right(self.heading_paragraphs, first_paragraph)
        return (
            position < len(self.heading_paragraphs)
            and self.heading_paragraphs[position] <= last_paragraph
        )

    def sentence_range(self, sentence: int) -> range:
        """Return the token ids of ``sentence``."""
        first = self.sentence_first[sentence]
        if sentence + 1 < len(self.sentence_first):
            return range(first, self.sentence_first[sentence + 1])
        return range(first, len(self.start))

    def children(self, token: int) -> list[int]:
        """Return the tokens whose head is ``token``; heads never cross sentences."""
        return [
            other
            for other in self.sentence_range(self.sentence[token])
            if other != token and self.head[other] == token
        ]

    def first_token_from(self, offset: int) -> int:
        """Return the first token starting at or after ``offset`` (may be ``len``)."""
        return bisect.bisect_left(self.start, offset)

    def last_token_before(self, offset: int) -> int:
        """Return the last token ending at or before ``offset`` (-1 if none)."""
        return bisect.bisect_right(self.end, offset) - 1
