"""BookNLP's output files, converted into the sections of the common result.

BookNLP 1.0.8 writes tab-separated ``.tokens``, ``.entities``, ``.quotes`` and
``.supersense`` files and a JSON ``.book`` file with the characters. Token
spans stay BookNLP's global token ids (first and last, inclusive). Character
offsets are moved from the analysed text that BookNLP read to the submitted
text by adding the start of the analysed span. BookNLP's ``byte_onset`` and
``byte_offset`` columns are in fact ``str`` indices (spaCy's ``Token.idx``).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from runner.analysis.pronouns import FIRST_PERSON_PRONOUNS
from runner.analysis.sections import span_fields

TOKEN_COLUMNS = (
    "paragraph_ID", "sentence_ID", "token_ID_within_sentence",
    "token_ID_within_document", "word", "lemma", "byte_onset", "byte_offset",
    "POS_tag", "fine_POS_tag", "dependency_relation", "syntactic_head_ID", "event",
)  # fmt: skip
TOKEN_ROWS_PER_BATCH = 10_000


class BookNLPOutputError(Exception):
    """A BookNLP output file is missing or does not have the expected columns."""


def _rows(path: str) -> Iterator[list[str]]:
    """Yield the tab-separated fields of each line after the header."""
    with open(path, encoding="utf-8", newline="\n") as handle:
        next(handle, None)
        for line in handle:
            line = line.rstrip("\n")
            if line:
                yield line.split("\t")


def _optional_int(value: str) -> int | None:
    return None if value == "None" else int(value)


@dataclasses.dataclass
class TokenTable:
    """Offsets and counts read from the ``.tokens`` file."""

    start: list[int] = dataclasses.field(default_factory=list)
    end: list[int] = dataclasses.field(default_factory=list)
    events: list[int] = dataclasses.field(default_factory=list)
    sentences: int = 0
    paragraphs: int = 0

    def __len__(self) -> int:
        return len(self.start)


class BookNLPOutput:
    """Reads one job's BookNLP files and builds the result sections.

    Args:
        folder: BookNLP's output folder.
        book_id: the ``idd`` BookNLP named its files with.
        text: the submitted text, which offsets index.
        offset: where in ``text`` the analysed text that BookNLP read starts.
        components: the result sections the job requested.
    """

    def __init__(
        self, folder: str, book_id: str, text: str, offset: int, components: tuple[str, ...]
    ) -> None:
        self.folder = folder
        self.book_id = book_id
        self.text = text
        self.offset = offset
        self.components = frozenset(components)
        self.tokens = TokenTable()
        self.characters: dict[int, dict[str, Any]] = {}

    def path(self, suffix: str) -> str:
        """Return the path of BookNLP's file with ``suffix`` (``.tokens``, ...)."""
        return os.path.join(self.folder, self.book_id + suffix)

    def read_tokens(self, write_rows: Callable[[list[dict[str, Any]]], None]) -> None:
        """Convert the ``.tokens`` file, passing rows to ``write_rows`` in batches.

        Raises:
            BookNLPOutputError: the file is missing or a line has the wrong
                number of fields.
        """
        path = self.path(".tokens")
        if not os.path.isfile(path):
            raise BookNLPOutputError(f"BookNLP wrote no tokens file {path}")
        with_events = "events" in self.components
        with_tokens = "tokens" in self.components
        batch: list[dict[str, Any]] = []
        for number, fields in enumerate(_rows(path), start=2):
            if len(fields) != len(TOKEN_COLUMNS):
                raise BookNLPOutputError(
                    f"{path} line {number} has {len(fields)} fields; expected "
                    f"{len(TOKEN_COLUMNS)} ({', '.join(TOKEN_COLUMNS)})"
                )
            row = self._token_row(fields, with_events)
            if with_tokens:
                batch.append(row)
                if len(batch) >= TOKEN_ROWS_PER_BATCH:
                    write_rows(batch)
                    batch = []
        if batch:
            write_rows(batch)

    def _token_row(self, fields: list[str], with_events: bool) -> dict[str, Any]:
        paragraph, sentence, in_sentence, token_id = (int(v) for v in fields[:4])
        start = self.offset + int(fields[6])
        end = self.offset + int(fields[7])
        table = self.tokens
        table.start.append(start)
        table.end.append(end)
        table.sentences = max(table.sentences, sentence + 1)
        table.paragraphs = max(table.paragraphs, paragraph + 1)
        is_event = fields[12] == "EVENT"
        if is_event:
            table.events.append(token_id)
        row = {
            "paragraph_id": paragraph,
            "sentence_id": sentence,
            "token_id": token_id,
            "token_id_in_sentence": in_sentence,
            "start": start,
            "end": end,
            # The file's word has white space replaced by S, N and T.
            "word": self.text[start:end],
            "lemma": fields[5],
            "pos": fields[8],
            "fine_pos": fields[9],
            "dep": fields[10],
            "head": int(fields[11]),
        }
        if with_events:
            row["event"] = is_event
        return row

    def _span(self, first: int, last: int) -> dict[str, Any]:
        return span_fields(self.tokens.start, self.tokens.end, self.text, first, last)

    def read_characters(self) -> list[dict[str, Any]]:
        """Return the characters of the ``.book`` file, with their mentions.

        Call after ``read_tokens``. BookNLP lists a character only when it has at
        least two PER mentions.
        """
        path = self.path(".book")
        if "characters" not in self.components or not os.path.isfile(path):
            return []
        with open(path, encoding="utf-8") as handle:
            book = json.load(handle)
        mentions = self._person_mentions()
        rows = []
        for character in book.get("characters", []):
            row = _character_row(character, mentions.get(character["id"], []))
            self.characters[row["character_id"]] = row
            rows.append(row)
        return rows

    def _person_mentions(self) -> dict[int, list[list[int]]]:
        path = self.path(".entities")
        mentions: dict[int, list[list[int]]] = collections.defaultdict(list)
        if os.path.isfile(path):
            for coref, start, end, _kind, category, _text in _rows(path):
                if category == "PER":
                    mentions[int(coref)].append([int(start), int(end)])
        return mentions

    def read_entities(self) -> list[dict[str, Any]]:
        """Return the ``.entities`` rows; call after ``read_characters``."""
        path = self.path(".entities")
        if "entities" not in self.components or not os.path.isfile(path):
            return []
        rows = []
        for coref, start, end, kind, category, _text in _rows(path):
            row = self._span(int(start), int(end))
            row["category"] = category
            row["mention_type"] = kind
            coref_id = int(coref)
            row["character_id"] = coref_id if coref_id in self.characters else None
            row["coref_id"] = coref_id
            rows.append(row)
        return rows

    def read_quotes(self) -> list[dict[str, Any]]:
        """Return the ``.quotes`` rows with speakers; call after ``read_characters``.

        ``speaker`` is set only when the speaker's cluster is one of the
        characters; ``speaker_mention`` keeps BookNLP's attribution either way.
        """
        path = self.path(".quotes")
        if "quotes" not in self.components or not os.path.isfile(path):
            return []
        rows = []
        for quote_id, fields in enumerate(_rows(path)):
            quote_start, quote_end, mention_start, mention_end, phrase, char_id = fields[:6]
            row: dict[str, Any] = {"quote_id": quote_id}
            row.update(self._span(int(quote_start), int(quote_end)))
            first = _optional_int(mention_start)
            coref_id = _optional_int(char_id)
            character = self.characters.get(coref_id) if coref_id is not None else None
            row["speaker"] = (
                {"character_id": coref_id, "name": character["name"]}
                if character is not None
                else None
            )
            row["speaker_token"] = first
            row["speaker_mention"] = None
            if first is not None:
                last = _optional_int(mention_end)
                row["speaker_mention"] = {
                    **self._span(first, first if last is None else last),
                    "coref_id": coref_id,
                    "phrase": phrase,
                }
            rows.append(row)
        return rows

    def read_supersenses(self) -> list[dict[str, Any]]:
        """Return the ``.supersense`` rows."""
        path = self.path(".supersense")
        if "supersenses" not in self.components or not os.path.isfile(path):
            return []
        rows = []
        for start, end, category, _text in _rows(path):
            row = self._span(int(start), int(end))
            row["category"] = category
            rows.append(row)
        return rows

    def events(self) -> list[dict[str, Any]]:
        """Return one row per event token; call after ``read_tokens``."""
        if "events" not in self.components:
            return []
        rows = []
        for token in self.tokens.events:
            start, end = self.tokens.start[token], self.tokens.end[token]
            rows.append(
                {"token_id": token, "start": start, "end": end, "text": self.text[start:end]}
            )
        return rows


def _counts(names: list[dict[str, Any]]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for name in names:
        counts[name["n"]] += int(name["c"])
    return dict(counts.most_common())


def _character_name(character_id: int, mentions: dict[str, list[dict[str, Any]]]) -> str:
    for kind in ("proper", "common"):
        if mentions.get(kind):
            return str(mentions[kind][0]["n"])
    pronouns = mentions.get("pronoun") or []
    if character_id == 0 and any(p["n"].lower() in FIRST_PERSON_PRONOUNS for p in pronouns):
        # BookNLP gives the first-person narrator id 0 and no name.
        return "[NARRATOR]"
    return str(pronouns[0]["n"]) if pronouns else ""


def _gender(inferred: dict[str, Any] | None) -> dict[str, Any]:
    if not inferred:
        return {"argmax": None, "inference": {}, "evidence": 0}
    return {
        "argmax": inferred.get("argmax"),
        "inference": dict(inferred.get("inference", {})),
        # BookNLP's total is an expected count from its EM model, so a float.
        "evidence": round(float(inferred.get("total", 0))),
    }


def _character_row(character: dict[str, Any], mentions: list[list[int]]) -> dict[str, Any]:
    names = character.get("mentions", {})
    proper = _counts(names.get("proper", []))
    common = _counts(names.get("common", []))
    pronoun = _counts(names.get("pronoun", []))
    character_id = int(character["id"])

    def words(key: str) -> list[dict[str, Any]]:
        return [{"word": item["w"], "token_id": item["i"]} for item in character.get(key, [])]

    return {
        "character_id": character_id,
        "name": _character_name(character_id, names),
        "names": proper,
        "mention_count": int(character.get("count", len(mentions))),
        "proper_count": sum(proper.values()),
        "pronoun_count": sum(pronoun.values()),
        "nominal_count": sum(common.values()),
        "gender": _gender(character.get("g")),
        "mentions": mentions,
        # BookNLP's syntactic roles: verbs the character is the agent or the
        # patient of, its possessions and its modifiers.
        "agent": words("agent"),
        "patient": words("patient"),
        "poss": words("poss"),
        "mod": words("mod"),
    }
