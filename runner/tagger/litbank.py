"""Read and write LitBank entity and event files.

LitBank (Bamman et al. 2019, CC BY 4.0) stores one token a line with a blank line
between sentences. ``entities/ID.tsv`` has the token, then nested entity layers in
BIO form (``B-PER``, ``I-FAC``, ...), column 1 the first layer. ``events/ID.tsv``
has the token, then ``EVENT`` or ``O``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

CATEGORIES = ("PER", "LOC", "FAC", "GPE", "VEH", "ORG")
# LitBank annotates at most four nesting levels. Some files carry a fifth
# column, which is ``O`` on every row of the 80 documents this was checked on.
MAX_LAYERS = 4

PRONOUNS = frozenset(
    "i me my mine myself we us our ours ourselves you your yours yourself "
    "yourselves he him his himself she her hers herself it its itself they them "
    "their theirs themselves thee thou thy thine ye who whom whose".split()
)
# The head of "the Duke of Omnium" is "Duke": the head is the last token before
# the first of these words, or the span's last token when none occurs.
HEAD_STOP_WORDS = frozenset("of in at on from for with by to , who which that".split())


@dataclasses.dataclass(frozen=True, order=True)
class EntitySpan:
    """An entity mention in document token offsets, ``end`` inclusive.

    ``layer`` is the 0-based BIO column it came from. ``kind`` is PROP (proper
    name), NOM (common noun phrase) or PRON (pronoun); see ``mention_kind``.
    """

    start: int
    end: int
    category: str
    layer: int = 0
    kind: str = "NOM"


@dataclasses.dataclass
class Document:
    """A LitBank document: sentences of tokens, entity spans and event tokens.

    ``events`` contains the document token offsets of realis event triggers, and
    ``events_annotated`` is False for a document read without an events file,
    whose events are unknown rather than absent. ``event_scores``, filled only on predictions, holds each token's predicted
    probability of being one, so that a decision threshold can be tuned.
    """

    doc_id: str
    sentences: list[list[str]]
    entities: list[EntitySpan] = dataclasses.field(default_factory=list)
    events: list[int] = dataclasses.field(default_factory=list)
    event_scores: list[float] = dataclasses.field(default_factory=list)
    events_annotated: bool = True

    @property
    def tokens(self) -> list[str]:
        return [token for sentence in self.sentences for token in sentence]

    def sentence_starts(self) -> list[int]:
        """Return the document offset of each sentence's first token."""
        starts, offset = [], 0
        for sentence in self.sentences:
            starts.append(offset)
            offset += len(sentence)
        return starts


def mention_kind(tokens: list[str]) -> str:
    """Classify a mention's tokens as PROP, NOM or PRON from its head token.

    LitBank's entity files give only the category, so the kind is derived: a
    pronoun head gives PRON, a capitalised head gives PROP, anything else NOM.
    The head is the last token before the first word in ``HEAD_STOP_WORDS``.
    """
    head_index = len(tokens) - 1
    for index, token in enumerate(tokens):
        if index > 0 and token.lower() in HEAD_STOP_WORDS:
            head_index = index - 1
            break
    head = tokens[head_index]
    if head.lower() in PRONOUNS:
        return "PRON"
    # NOTE: a capitalised common noun ("Men came", "the Lord Chancellor") counts
    # as PROP. The part-of-speech tag of the head would settle these cases.
    if head[:1].isupper():
        return "PROP"
    return "NOM"


def spans_from_bio(labels: list[str], layer: int = 0) -> list[tuple[int, int, str]]:
    """Decode one BIO column into (start, end inclusive, category) spans.

    An ``I-`` label that does not continue a span of its category starts a new
    span, so model output with broken BIO still decodes.
    """
    spans: list[tuple[int, int, str]] = []
    start, category = -1, ""
    for index, label in enumerate(labels + ["O"]):
        prefix, _, label_category = label.partition("-")
        continues = prefix == "I" and label_category == category and start >= 0
        if continues:
            continue
        if start >= 0:
            spans.append((start, index - 1, category))
            start, category = -1, ""
        if prefix in ("B", "I"):
            start, category = index, label_category
    return spans


def bio_from_spans(length: int, spans: list[tuple[int, int, str]]) -> list[str]:
    """Encode spans as one BIO column. A later overlapping span overwrites."""
    labels = ["O"] * length
    for start, end, category in spans:
        labels[start] = f"B-{category}"
        for index in range(start + 1, end + 1):
            labels[index] = f"I-{category}"
    return labels


def _read_rows(path: Path) -> list[list[list[str]]]:
    """Read a tab-separated LitBank file into sentences of rows of fields.

    Raises:
        ValueError: the file is not UTF-8.
    """
    sentences: list[list[list[str]]] = []
    current: list[list[str]] = []
    try:
        # utf-8-sig drops a byte order mark, which would glue to the first token.
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not valid UTF-8 ({error}); convert it to UTF-8"
        ) from error
    for line in content.splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        current.append(line.split("\t"))
    if current:
        sentences.append(current)
    return sentences


def read_entities(path: Path, doc_id: str | None = None) -> Document:
    """Read ``entities/ID.tsv`` into a Document with entity spans."""
    rows = _read_rows(path)
    sentences = [[row[0] for row in sentence] for sentence in rows]
    document = Document(doc_id or path.stem, sentences)
    flat_rows = [row for sentence in rows for row in sentence]
    tokens = document.tokens
    for layer in range(MAX_LAYERS):
        column = [_field(row, layer + 1) for row in flat_rows]
        _check_labels(path, column)
        for start, end, category in spans_from_bio(column, layer):
            kind = mention_kind(tokens[start : end + 1])
            document.entities.append(EntitySpan(start, end, category, layer, kind))
    document.entities.sort()
    return document


def _check_labels(path: Path, column: list[str]) -> None:
    """Raise ValueError naming the first label that is not O, B-X or I-X."""
    for row, label in enumerate(column, start=1):
        prefix, _, category = label.partition("-")
        if label != "O" and (prefix not in ("B", "I") or category not in CATEGORIES):
            raise ValueError(
                f"{path}: token {row} has entity label {label!r}; labels are O or "
                f"B-/I- followed by one of {', '.join(CATEGORIES)}"
            )


def _field(row: list[str], index: int) -> str:
    value = row[index].strip() if index < len(row) else ""
    return value or "O"


def read_events(path: Path) -> tuple[list[list[str]], list[int]]:
    """Read ``events/ID.tsv`` into sentences of tokens and event token offsets."""
    rows = _read_rows(path)
    sentences = [[row[0] for row in sentence] for sentence in rows]
    flat_rows = [row for sentence in rows for row in sentence]
    events = [i for i, row in enumerate(flat_rows) if _field(row, 1) == "EVENT"]
    return sentences, events


def read_document(root: Path, doc_id: str) -> Document:
    """Read one document's entity file and, when present, its event file.

    Raises:
        ValueError: the event file's tokens differ from the entity file's.
    """
    document = read_entities(root / "entities" / f"{doc_id}.tsv", doc_id)
    events_path = root / "events" / f"{doc_id}.tsv"
    if events_path.exists():
        event_sentences, events = read_events(events_path)
        event_tokens = [token for sentence in event_sentences for token in sentence]
        if event_tokens != document.tokens:
            raise ValueError(
                f"tokens in {events_path} differ from the entity file of {doc_id}"
            )
        document.events = events
    else:
        document.events_annotated = False
    return document


def list_documents(root: Path) -> list[str]:
    """Return the sorted ids of the documents that have an entity file.

    Raises:
        FileNotFoundError: ``root/entities`` does not exist.
    """
    entity_dir = root / "entities"
    if not entity_dir.is_dir():
        raise FileNotFoundError(f"no LitBank entities folder at {entity_dir}")
    return sorted(path.stem for path in entity_dir.glob("*.tsv"))


def write_entities(document: Document, path: Path, layers: int = MAX_LAYERS) -> None:
    """Write the document's entity spans as ``entities/ID.tsv`` layout.

    Each span goes to the BIO column of its ``layer``; spans with a layer at or
    above ``layers`` are dropped.
    """
    tokens = document.tokens
    columns = []
    for layer in range(layers):
        spans = [
            (span.start, span.end, span.category)
            for span in document.entities
            if span.layer == layer
        ]
        columns.append(bio_from_spans(len(tokens), spans))
    rows = [
        [token] + [column[i] for column in columns] for i, token in enumerate(tokens)
    ]
    _write_rows(document, rows, path)


def write_events(document: Document, path: Path) -> None:
    """Write the document's event tokens as ``events/ID.tsv`` layout."""
    events = set(document.events)
    rows = [
        [token, "EVENT" if i in events else "O"]
        for i, token in enumerate(document.tokens)
    ]
    _write_rows(document, rows, path)


def _write_rows(document: Document, rows: list[list[str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for start, sentence in zip(document.sentence_starts(), document.sentences):
        for offset in range(len(sentence)):
            lines.append("\t".join(rows[start + offset]))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
