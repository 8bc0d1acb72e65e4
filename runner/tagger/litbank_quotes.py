"""Read LitBank's quotation and coreference files.

``quotations/ID.tsv`` has ``QUOTE`` rows (quote id, start sentence, start token,
end sentence, end token, text) and ``ATTRIB`` rows (quote id, speaker). The end
token is the closing mark itself. ``quotations/ID.txt`` contains the sentences
those indices point into, one a line, tokens separated by single spaces.
``coref/ID.conll`` is CoNLL-2012 style, one token a line, with the chains in
the last column: ``(N``, ``N)`` or ``(N)``, several joined by ``|``. Both files
tokenize a document the same way.

A speaker is written as the text of one of its mentions, with ``_`` for each
space and dropped character, and a number (``Mrs_Bennet-7``, ``MRS__LENNOX-7``).
The number is not the chain's, so ``speaker_chains`` finds the chain by that
text. A first-person narrator is written ``narrator`` or ``I``; that names the
chain with the most first-person pronouns.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

_CHAIN_PART = re.compile(r"^(\()?(\d+)(\))?$")
_NARRATOR_NAMES = frozenset({"narrator", "i"})
_FIRST_PERSON = frozenset({"i", "me", "my", "myself"})


@dataclasses.dataclass(frozen=True)
class GoldQuote:
    """A quote in document token offsets (``end`` inclusive) and its speaker."""

    quote_id: str
    start: int
    end: int
    speaker: str | None


@dataclasses.dataclass
class QuoteDocument:
    """A document's sentences, quotes and coreference chains.

    ``chains`` maps a chain id to its mentions as ``(start, end)`` document token
    offsets, ``end`` inclusive.
    """

    doc_id: str
    sentences: list[list[str]]
    quotes: list[GoldQuote]
    chains: dict[int, list[tuple[int, int]]]

    @property
    def tokens(self) -> list[str]:
        return [token for sentence in self.sentences for token in sentence]


def list_quote_documents(root: Path) -> list[str]:
    """Return the ids of documents with both quotation and coreference files."""
    folder = root / "quotations"
    if not folder.is_dir():
        raise ValueError(f"{root} has no quotations folder; give a LitBank folder")
    return sorted(
        path.stem
        for path in folder.glob("*.tsv")
        if (folder / f"{path.stem}.txt").is_file()
        and (root / "coref" / f"{path.stem}.conll").is_file()
    )


def read_quote_document(root: Path, doc_id: str) -> QuoteDocument:
    """Read one document's quotations and chains; ValueError names a bad file."""
    text_path = root / "quotations" / f"{doc_id}.txt"
    sentences = [line.split(" ") for line in _lines(text_path) if line.strip()]
    first_token = [0]
    for sentence in sentences:
        first_token.append(first_token[-1] + len(sentence))
    quotes = _read_quotes(root / "quotations" / f"{doc_id}.tsv", first_token)
    tokens, chains = read_chains(root / "coref" / f"{doc_id}.conll")
    if tokens != [token for sentence in sentences for token in sentence]:
        raise ValueError(
            f"the tokens of {root / 'coref' / doc_id}.conll differ from those of "
            f"{text_path}; both must come from the same LitBank release"
        )
    return QuoteDocument(doc_id, sentences, quotes, chains)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").split("\n")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 ({error.reason})") from error


def _read_quotes(path: Path, first_token: list[int]) -> list[GoldQuote]:
    spans: dict[str, tuple[int, int]] = {}
    speakers: dict[str, str] = {}
    for number, line in enumerate(_lines(path), 1):
        fields = line.split("\t")
        try:
            if fields[0] == "QUOTE":
                start_sentence, start, end_sentence, end = map(int, fields[2:6])
                spans[fields[1]] = (
                    first_token[start_sentence] + start,
                    first_token[end_sentence] + end,
                )
            elif fields[0] == "ATTRIB":
                speakers[fields[1]] = fields[2]
        except (ValueError, IndexError) as error:
            raise ValueError(
                f"{path} line {number} is not a QUOTE or ATTRIB row of "
                f"LitBank's layout: {line[:80]!r}"
            ) from error
    return sorted(
        (GoldQuote(quote_id, start, end, speakers.get(quote_id))
         for quote_id, (start, end) in spans.items()),
        key=lambda quote: (quote.start, quote.end),
    )


def read_chains(path: Path) -> tuple[list[str], dict[int, list[tuple[int, int]]]]:
    """Return a CoNLL file's tokens and its chains' mention spans."""
    tokens: list[str] = []
    chains: dict[int, list[tuple[int, int]]] = {}
    open_at: dict[int, list[int]] = {}
    for number, line in enumerate(_lines(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) < 5:
            raise ValueError(f"{path} line {number} has too few columns for CoNLL")
        index = len(tokens)
        tokens.append(columns[3])
        for part in columns[-1].strip().split("|"):
            match = _CHAIN_PART.match(part)
            if match is None:
                continue
            opens, chain, closes = match.group(1), int(match.group(2)), match.group(3)
            if opens:
                open_at.setdefault(chain, []).append(index)
            if closes:
                if not open_at.get(chain):
                    raise ValueError(
                        f"{path} line {number} closes chain {chain}, never opened"
                    )
                start = open_at[chain].pop()
                chains.setdefault(chain, []).append((start, index))
    return tokens, chains


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def speaker_chains(document: QuoteDocument, speaker: str) -> set[int]:
    """Return the chains with a mention whose letters and digits spell ``speaker``.

    The trailing number of the speaker is dropped first. Several chains can
    match a common phrase ("men"); the caller decides what to do with those.
    """
    name = _letters(speaker.rsplit("-", 1)[0])
    tokens = document.tokens
    if name in _NARRATOR_NAMES:
        first_person = {
            chain: sum(a == b and tokens[a].lower() in _FIRST_PERSON for a, b in spans)
            for chain, spans in document.chains.items()
        }
        best = max(first_person, key=lambda chain: first_person[chain], default=None)
        return {best} if best is not None and first_person[best] else set()
    return {
        chain
        for chain, mentions in document.chains.items()
        if any(_letters("".join(tokens[a : b + 1])) == name for a, b in mentions)
    }
