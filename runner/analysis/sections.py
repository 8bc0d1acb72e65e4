"""Build the ``entities``, ``quotes`` and ``characters`` sections of a result.

Sections the job did not request are empty lists. So is ``supersenses``, since
this engine does not compute it. ``events`` lists the event tokens that the
tagger found (none with the ``fast`` model). Token spans are inclusive
global token ids; character offsets are ``[start, end)`` into the submitted text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from runner.analysis.cast import Cast, Character
from runner.analysis.characters import gender_summary
from runner.analysis.entities import NOM, PRON, PROP, Mention
from runner.analysis.speakers import QuoteTokens
from runner.analysis.token_table import TokenTable



def span_fields(
    starts: Sequence[int], ends: Sequence[int], text: str, first: int, last: int
) -> dict[str, Any]:
    """Return the result fields of tokens ``first`` to ``last`` (inclusive).

    ``starts`` and ``ends`` are the tokens' character offsets into ``text``.
    """
    start, end = starts[first], ends[last]
    return {
        "start_token": first,
        "end_token": last,
        "start": start,
        "end": end,
        "text": text[start:end],
    }

class ResultSections:
    """Turns the analysis state into the JSON-ready result sections."""

    def __init__(
        self,
        text: str,
        table: TokenTable,
        mentions: Sequence[Mention],
        quotes: Sequence[QuoteTokens],
        cast: Cast,
        components: Sequence[str],
        event_tokens: Sequence[int] = (),
    ) -> None:
        self.text = text
        self.table = table
        self.mentions = mentions
        self.quotes = quotes
        self.cast = cast
        self.components = frozenset(components)
        self.event_tokens = event_tokens

    def items(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(key, value)`` for each section after ``tokens``, in result order."""
        yield "entities", self.entities() if "entities" in self.components else []
        yield "quotes", self.quote_rows() if "quotes" in self.components else []
        yield "characters", self.characters() if "characters" in self.components else []
        yield "events", self.events() if "events" in self.components else []
        yield "supersenses", []

    def _span(self, first: int, last: int) -> dict[str, Any]:
        return span_fields(self.table.start, self.table.end, self.text, first, last)

    def entities(self) -> list[dict[str, Any]]:
        """Return every mention; ``character_id`` is set only with ``characters``."""
        with_characters = "characters" in self.components
        rows = []
        for mention in self.mentions:
            row = self._span(mention.start, mention.end)
            row["category"] = mention.category
            row["mention_type"] = mention.kind
            row["character_id"] = mention.character if with_characters else None
            rows.append(row)
        return rows

    def events(self) -> list[dict[str, Any]]:
        """Return one row per event trigger token, in text order."""
        rows = []
        for token in self.event_tokens:
            row = self._span(token, token)
            rows.append(
                {"token_id": token, "start": row["start"], "end": row["end"],
                 "text": row["text"]}
            )  # fmt: skip
        return rows

    def quote_rows(self) -> list[dict[str, Any]]:
        """Return the quotes with their speakers (a character id and name, or null).

        ``speaker_token`` is the head of the mention that names the speaker, or
        null when no mention does (an untagged quote, or a dialogue turn that
        took its speaker from the alternation). As in ``entities``, the
        speaker's ``character_id`` is set only with ``characters``, since it
        points into that list.
        """
        with_characters = "characters" in self.components
        names = {
            character.character_id: character.name for character in self.cast.characters
        }
        rows = []
        for quote_id, (quote, speaker) in enumerate(
            zip(self.quotes, self.cast.speakers)
        ):
            row: dict[str, Any] = {"quote_id": quote_id}
            row.update(self._span(quote.start_token, quote.end_token))
            if speaker.character_id is None:
                row["speaker"] = None
            else:
                row["speaker"] = {
                    "character_id": speaker.character_id if with_characters else None,
                    "name": names[speaker.character_id],
                }
            # Set whenever a mention names the speaker, even one with no character.
            row["speaker_token"] = speaker.token
            rows.append(row)
        return rows

    def characters(self) -> list[dict[str, Any]]:
        """Return the characters, most mentioned first."""
        return [self._character_row(character) for character in self.cast.characters]

    def _character_row(self, character: Character) -> dict[str, Any]:
        kinds = [self.mentions[index].kind for index in character.mentions]
        return {
            "character_id": character.character_id,
            "name": character.name,
            "names": dict(character.names.most_common()),
            "mention_count": len(kinds),
            "proper_count": kinds.count(PROP),
            "pronoun_count": kinds.count(PRON),
            "nominal_count": kinds.count(NOM),
            "gender": gender_summary(character.votes),
            "mentions": [
                [self.mentions[index].start, self.mentions[index].end]
                for index in character.mentions
            ],
        }
