"""Parse pieces of a book with spaCy and keep only what later stages need.

For each chunk of pieces, ``ChunkParser`` runs the pipeline, appends compact token
data to a ``TokenTable``, writes full token rows to a ``TokenSpool`` and collects
entity, noun-phrase and pronoun mentions. Nothing else of the spaCy docs is kept.

With a LitBank tagger (the ``litbank`` model), the tagger's spans replace spaCy's
named entities and person-noun rules: its proper-noun spans go through the same
name repairs, its other spans become NOM mentions of every category, nested ones
included, and its events are marked on the tokens. Pronouns still come from POS.
"""

from __future__ import annotations

import bisect
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from runner.analysis.casing import CasingEvidence
from runner.analysis.chunks import CollapsedText, Piece
from runner.analysis.entities import (
    CATEGORY_OF_LABEL,
    FAC,
    NOM,
    PER,
    PRON,
    Mention,
    POSSESSIVE_ENDINGS,
    NameCandidate,
    extend_over_honorifics,
    honorific_name_spans,
    is_honorific,
    is_name_like,
    is_plausible_person,
    noun_phrase_start,
    split_person_span,
    starts_with_honorific,
    follows_the_alone,
    title_spans,
    trim_span,
    with_title_article,
    without_format_characters,
)
from runner.analysis.lexicon import (
    LONE_PARTICLES,
    PERSON_NOUNS,
    PRONOUN_GENDER,
    SPEECH_VERBS,
    name_word_key,
)
from runner.analysis.result_writer import TokenSpool
from runner.analysis.self_naming import self_naming_pronoun
from runner.analysis.token_table import TokenTable
from runner.engines.chunk_tagging import DocTags, tag_docs
from runner.engines.spacy_pipeline import QUOTE_MARKS_KEY
from runner.tagger.tagger import Tagger

logger = logging.getLogger(__name__)

# Documents per forward pass. Paragraph documents average some 50 tokens, so a
# batch is a few thousand tokens.
DEFAULT_BATCH_SIZE = 64
# Tagger windows per forward pass, of at most 192 subwords each. A chunk of
# 4,000 tokens makes about 28 windows, so progress moves about 4 times a chunk.
TAGGER_BATCH_SIZE = 8

_ROMAN_NUMERAL = re.compile(r"^[IVXLCDM]+\.?$")


class ChunkParser:
    """Runs spaCy over chunks of pieces and accumulates the book's token data.

    Attributes:
        table: compact token arrays for the whole book.
        mentions: noun-phrase and pronoun mentions, in parse order.
        name_candidates: proper-noun spans for ``resolve_names``, in parse order.
        title_mentions: a NOM mention for each tagger span with a proper-noun
            root, to keep where ``resolve_names`` finds no name ("Her Majesty").
        casing: the book's casing evidence so far, for ``resolve_names``.
        event_tokens: global ids of event tokens (only with a tagger).
    """

    def __init__(
        self,
        nlp: Language,
        text: str,
        spool: TokenSpool | None,
        opening_marks: Sequence[int],
        closing_marks: Sequence[int],
        batch_size: int = DEFAULT_BATCH_SIZE,
        tagger: Tagger | None = None,
        on_tagger_batch: Callable[[float], None] | None = None,
        mark_events: bool = True,
    ) -> None:
        """``on_tagger_batch`` gets the fraction of a chunk's tagging done.

        ``mark_events`` adds each token's ``event`` field when the tagger
        runs; a job that did not request events gets no such field.
        """
        self.nlp = nlp
        self.tagger = tagger
        self.mark_events = mark_events
        self.on_tagger_batch = on_tagger_batch
        self.batch_size = batch_size
        self.text = text
        self.spool = spool
        self.opening_marks = sorted(opening_marks)
        self.closing_marks = sorted(closing_marks)
        self.table = TokenTable()
        self.mentions: list[Mention] = []
        self.name_candidates: list[NameCandidate] = []
        self.title_mentions: list[Mention] = []
        self.event_tokens: list[int] = []
        self.casing = CasingEvidence()
        # Seconds spent in spaCy and in the tagger, for the result's timings.
        self.seconds = {"spacy": 0.0, "tagger": 0.0}

    def parse_chunk(self, pieces: Sequence[Piece]) -> int:
        """Parse ``pieces`` and return how many tokens they added."""
        before = len(self.table)
        collapsed = [
            CollapsedText(self.text, piece.start, piece.end) for piece in pieces
        ]
        docs = [self._make_doc(piece, view) for piece, view in zip(pieces, collapsed)]
        started = time.perf_counter()
        if self.tagger is None:
            parsed = list(self.nlp.pipe(docs, batch_size=self.batch_size))
            tags: list[DocTags | None] = [None] * len(parsed)
            self.seconds["spacy"] += time.perf_counter() - started
        else:
            # The tagger replaces spaCy's named entities, so NER is not run.
            with self.nlp.select_pipes(disable=["ner"]):
                parsed = list(self.nlp.pipe(docs, batch_size=self.batch_size))
            tagging = time.perf_counter()
            self.seconds["spacy"] += tagging - started
            headings = [piece.heading for piece in pieces]
            tags = list(
                tag_docs(
                    self.tagger, parsed, headings, TAGGER_BATCH_SIZE,
                    self.on_tagger_batch,
                )
            )  # fmt: skip
            self.seconds["tagger"] += time.perf_counter() - tagging
        rows: list[dict[str, Any]] = []
        for doc, piece, view, doc_tags in zip(parsed, pieces, collapsed, tags):
            global_ids = self._add_tokens(doc, piece, view, rows, doc_tags)
            if not piece.heading:
                self._add_mentions(doc, global_ids, doc_tags)
        if self.spool is not None:
            self.spool.write_rows(rows)
        return len(self.table) - before

    def _make_doc(self, piece: Piece, view: CollapsedText) -> Doc:
        doc = self.nlp.make_doc(view.text)
        opening = {view.to_collapsed(i) for i in _within(self.opening_marks, piece)}
        closing = {view.to_collapsed(i) for i in _within(self.closing_marks, piece)}
        doc.user_data[QUOTE_MARKS_KEY] = (opening, closing, piece.heading)
        return doc

    def _add_tokens(
        self,
        doc: Doc,
        piece: Piece,
        view: CollapsedText,
        rows: list[dict[str, Any]],
        tags: DocTags | None,
    ) -> list[int]:
        """Append the doc's non-space tokens; return the global id of each doc token.

        A whitespace token gets the id of the token before it (or -1), so that
        heads pointing at it still resolve. With tags, each row gets ``event``.
        """
        table = self.table
        base = len(table)
        global_ids = []
        count = 0
        for token in doc:
            global_ids.append(base + count if not token.is_space else base + count - 1)
            count += 0 if token.is_space else 1
        for sentence in doc.sents:
            sentence_id = -1
            position = 0
            for token in sentence:
                if token.is_space:
                    continue
                if sentence_id < 0:
                    sentence_id = table.start_sentence(piece.paragraph_id)
                row = self._token_row(
                    token, piece, view, global_ids, sentence_id, position
                )
                table.append(
                    row["start"],
                    row["end"],
                    row["head"],
                    row["pos"],
                    row["fine_pos"],
                    row["dep"],
                )
                if tags is not None and token.i in tags.events:
                    self.event_tokens.append(row["token_id"])
                if tags is not None and self.mark_events:
                    row["event"] = token.i in tags.events
                rows.append(row)
                position += 1
        return global_ids

    def _token_row(
        self,
        token: Token,
        piece: Piece,
        view: CollapsedText,
        global_ids: list[int],
        sentence_id: int,
        position: int,
    ) -> dict[str, Any]:
        start = view.to_source(token.idx)
        pos, tag = token.pos_, token.tag_
        if piece.heading and _ROMAN_NUMERAL.match(token.text):
            # "I" in "CHAPTER I" is a numeral, not the pronoun.
            pos, tag = "NUM", "CD"
        token_id = global_ids[token.i]
        head = global_ids[token.head.i]
        return {
            "paragraph_id": piece.paragraph_id,
            "sentence_id": sentence_id,
            "token_id": token_id,
            "token_id_in_sentence": position,
            "start": start,
            "end": start + len(token.text),
            "word": token.text,
            "lemma": token.lemma_,
            "pos": pos,
            "fine_pos": tag,
            "dep": token.dep_,
            "head": head if head >= 0 else token_id,
        }

    def _add_mentions(
        self, doc: Doc, global_ids: list[int], tags: DocTags | None
    ) -> None:
        # Invisible format characters (zero-width space, soft hyphen) inside a
        # name would make "Eliz\u200babeth" a second Elizabeth.
        words = [without_format_characters(token.text) for token in doc]
        opening_tokens, closing_tokens = _mark_tokens(doc)
        initial = [
            token.is_sent_start or (token.i - 1) in opening_tokens for token in doc
        ]
        for word, starts in zip(words, initial):
            self.casing.observe(word, starts)
        # Names that spaCy tags otherwise ("said Will", a modal) count as
        # proper nouns in every name rule below.
        names_despite_tags = _names_despite_tags(doc, initial)
        pos = [
            "PROPN" if forced else token.pos_
            for token, forced in zip(doc, names_despite_tags)
        ]
        is_stop = [
            token.is_stop and not forced
            for token, forced in zip(doc, names_despite_tags)
        ]
        name_like = _name_like_flags(doc, opening_tokens, names_despite_tags)
        if tags is None:
            labelled = [
                (entity.start, entity.end - 1, CATEGORY_OF_LABEL.get(entity.label_))
                for entity in doc.ents
            ]
        else:
            labelled = [
                (start, end, category)
                for start, end, category in tags.spans
                if doc[start : end + 1].root.pos_ == "PROPN"
                or (category == PER and _untagged_name(doc[start : end + 1]))
            ]

        # Name spans in order of trust: NER, honorific names, then bare runs.
        # The tagger's spans contain whole names, and extending them would take
        # in a sentence-initial word ("May Mrs. Cutlets and I"), so they take
        # in only the names that spaCy tags otherwise ("Will Ladislaw").
        extend_over = name_like if tags is None else names_despite_tags
        spans = self._entity_spans(labelled, words, pos, is_stop, extend_over)
        taken = _mark([False] * len(doc), spans)
        honorific = honorific_name_spans(words, pos, taken)
        spans += [(start, end, PER) for start, end in honorific]
        taken = _mark(taken, spans)
        spans += [(start, end, PER) for start, end in title_spans(words, taken)]
        taken = _mark(taken, spans)
        runs = _name_like_runs(words, name_like, taken)
        spans += [(start, end, None) for start, end in runs]
        taken = _mark(taken, spans)

        for start, end, category in spans:
            self_named = _is_self_named(words, start, end)
            evidence = _is_speech_subject(doc, start, end, closing_tokens)
            evidence = evidence or _pronoun_follows(doc, end)
            evidence = evidence or _is_addressee(doc, end) or self_named
            self.name_candidates.append(
                NameCandidate(
                    start=global_ids[start],
                    end=global_ids[end],
                    words=tuple(words[start : end + 1]),
                    category=category,
                    person_evidence=evidence,
                    plausible_person=is_plausible_person(
                        words[start : end + 1], pos[start : end + 1]
                    ),
                    sentence_initial=bool(initial[start]),
                )
            )

        if tags is None:
            self._add_nominal_and_pronoun_mentions(doc, words, taken, global_ids)
        else:
            self._add_pronoun_mentions(doc, global_ids)
            self._add_tagged_mentions(doc, words, tags, global_ids)

    def _entity_spans(
        self,
        labelled: list[tuple[int, int, str | None]],
        words: list[str],
        pos: list[str],
        is_stop: list[bool],
        extend_over: Sequence[bool],
    ) -> list[tuple[int, int, str | None]]:
        """Return the labelled name spans (``end`` inclusive) that keep a category, repaired.

        An honorific before a span makes it PER; a PER span also takes in the
        ``extend_over`` words right before it ("Cecily" of "Cecily Harlow", which
        the small model tags as an adverb), and is split at lower-case words.
        """
        spans: list[tuple[int, int, str | None]] = []
        for start, end, category in labelled:
            if category == PER:
                while start > 0 and extend_over[start - 1]:
                    start -= 1
            extended = extend_over_honorifics(words, start)
            place_end = _saints_place_end(words, pos, extended, end)
            if place_end is not None:
                # LitBank keeps the "'s" of such a place in its span.
                spans.append((extended, place_end, FAC))
                continue
            if starts_with_honorific(words, extended, end):
                category, start = PER, extended
            if follows_the_alone(words, start, end):
                # A lone title after "the" is a person ("The Duke", labelled ORG).
                category, start = PER, start - 1
            if category is None:
                continue
            if category == PER:
                end = _over_name_after_title(words, pos, end)
            trimmed = trim_span(words, start, end, category)
            if trimmed is None:
                continue
            if category != PER:
                spans.append((trimmed[0], trimmed[1], category))
                continue
            for run in split_person_span(words, pos, is_stop, trimmed[0], trimmed[1]):
                spans.append((with_title_article(words, start, *run), run[1], category))
        # Two nested spans can trim to the same words ("sagte Hans" and "Hans"),
        # and one name must not count twice. The first, outer one is kept.
        first_of: dict[tuple[int, int], tuple[int, int, str | None]] = {}
        for span in spans:
            first_of.setdefault(span[:2], span)
        return list(first_of.values())

    def _add_nominal_and_pronoun_mentions(
        self, doc: Doc, words: list[str], taken: list[bool], global_ids: list[int]
    ) -> None:
        """Add pronoun mentions and NOM mentions of ``PERSON_NOUNS`` (no tagger)."""
        self._add_pronoun_mentions(doc, global_ids)
        deps = [token.dep_ for token in doc]
        heads = [token.head.i for token in doc]
        for token in doc:
            if taken[token.i] or token.pos_ != "NOUN" or token.tag_ != "NN":
                continue
            lemma = token.lemma_.lower()
            if lemma not in PERSON_NOUNS:
                continue
            start = noun_phrase_start(words, deps, heads, token.i)
            self.mentions.append(
                Mention(
                    start=global_ids[start],
                    end=global_ids[token.i],
                    category=PER,
                    kind=NOM,
                    head=global_ids[token.i],
                    key=lemma,
                    words=tuple(words[start : token.i + 1]),
                    gender=PERSON_NOUNS[lemma],
                )
            )

    def _add_pronoun_mentions(self, doc: Doc, global_ids: list[int]) -> None:
        for token in doc:
            lower = token.lower_
            # First-person pronouns become mentions later, once the cast has
            # found the narrator and each quote's speaker.
            if token.pos_ == "PRON" and lower in PRONOUN_GENDER:
                index = global_ids[token.i]
                self.mentions.append(
                    Mention(
                        index,
                        index,
                        PER,
                        PRON,
                        index,
                        key=lower,
                        gender=PRONOUN_GENDER[lower],
                    )
                )

    def _add_tagged_mentions(
        self, doc: Doc, words: list[str], tags: DocTags, global_ids: list[int]
    ) -> None:
        """Add the tagger's spans that are not names: NOM, and PRON by POS.

        The kind follows the span's syntactic root: a pronoun root gives PRON
        ("those who knew him"), any other root NOM. A lone third-person pronoun
        is already a mention of its own and is not added twice. A span with a
        proper-noun root goes to ``title_mentions``, as NOM.
        """
        for start, end, category in tags.spans:
            root = doc[start : end + 1].root
            lemma = root.lemma_.lower()
            if start == end and name_word_key(root.text) in LONE_PARTICLES:
                continue  # "La!" is an exclamation, no entity
            if root.pos_ == "PRON" and not _modifies_noun(doc, root, end):
                if start == end and root.lower_ in PRONOUN_GENDER:
                    continue
                kind, key, gender = PRON, root.lower_, None
            else:
                kind, key = NOM, lemma
                gender = PERSON_NOUNS.get(lemma) if category == PER else None
            mention = Mention(
                start=global_ids[start],
                end=global_ids[end],
                category=category,
                kind=kind,
                head=global_ids[root.i],
                key=key,
                words=tuple(words[start : end + 1]),
                gender=gender,
            )
            if root.pos_ == "PROPN":
                self.title_mentions.append(mention)
            else:
                self.mentions.append(mention)


# Parts of speech that end the words right after a pronoun root: "some of the
# men", "those who knew him", "my dear, come".
_PHRASE_BREAK_POS = frozenset({"ADP", "PRON", "VERB", "AUX", "PUNCT", "SCONJ", "CCONJ"})
_NOMINAL_POS = frozenset({"NOUN", "PROPN", "ADJ", "NUM"})


_SAINTS = frozenset({"St.", "St", "Saint"})


def _saints_place_end(
    words: list[str], pos: list[str], start: int, end: int
) -> int | None:
    """Return the end of "St. James's" or "St. Paul's" with no noun after it.

    A saint's name in the possessive that owns nothing names the church, as in
    "presented at St. James's" or "the dome of St. Paul's". The span may end
    before the possessive or on it; any other span gives None.
    """
    if words[start] not in _SAINTS:
        return None
    possessive = end if words[end] in POSSESSIVE_ENDINGS else end + 1
    if possessive - start < 2 or possessive >= len(words):
        return None
    if words[possessive] not in POSSESSIVE_ENDINGS:
        return None
    following = pos[possessive + 1] if possessive + 1 < len(words) else "PUNCT"
    if following in ("NOUN", "PROPN", "ADJ", "NUM"):
        return None
    return possessive


def _over_name_after_title(words: list[str], pos: list[str], end: int) -> int:
    """Return the end of a person span extended over the name after its last title.

    The tagger sometimes marks "Mr." alone and leaves "Bennet" out, so the
    name would lose its title and "Mr." would become a mention of its own.
    """
    if not is_honorific(words[end]):
        return end
    while end + 1 < len(words) and pos[end + 1] == "PROPN":
        if not words[end + 1][:1].isupper():
            break
        end += 1
    return end


def _modifies_noun(doc: Doc, root: Token, end: int) -> bool:
    """Return True when a pronoun root is followed by its noun ("my dear").

    spaCy sometimes roots a noun phrase on its determiner or possessive ("that
    first adventurous little sloop"), which would make the mention PRON.
    """
    for token in doc[root.i + 1 : end + 1]:
        if token.pos_ in _PHRASE_BREAK_POS:
            return False
        if token.pos_ in _NOMINAL_POS:
            return True
    return False


def _within(offsets: Sequence[int], piece: Piece) -> Sequence[int]:
    low = bisect.bisect_left(offsets, piece.start)
    high = bisect.bisect_left(offsets, piece.end)
    return offsets[low:high]


def _mark(
    taken: list[bool], spans: Sequence[tuple[int, int, str | None]]
) -> list[bool]:
    for start, end, _category in spans:
        for index in range(start, end + 1):
            taken[index] = True
    return taken


# Parts of speech that spaCy gives an unfamiliar name at a sentence's start
# ("Rosamond smiled", tagged a common noun).
_MISREAD_NAME_POS = frozenset({"NOUN", "ADJ", "ADV", "X"})


def _untagged_name(span: Span) -> bool:
    """Return True for a tagger person span that is one capitalised word.

    spaCy often tags an unfamiliar name at a sentence's start as a common noun,
    and the span would become a NOM mention. A plural, a person noun ("Father
    came in"), a title or a function word stays one. The book-wide casing
    check later drops a word that the book also writes in lower case.
    """
    if len(span) != 1:
        return False
    token = span[0]
    text = token.text
    if not text[:1].isupper() or text.isupper() or not text.isalpha():
        return False
    if token.pos_ not in _MISREAD_NAME_POS or token.tag_ in ("NNS", "NNPS"):
        return False
    return not (token.is_stop or text.lower() in PERSON_NOUNS or is_honorific(text))


def _names_despite_tags(doc: Doc, sentence_initial: Sequence[bool]) -> list[bool]:
    """Return True for each token that is a name whatever spaCy tags it.

    Those are a capitalised word that someone gives as their name ("My name
    is Kenge", which spaCy tags as an adjective) and a name that spaCy tags as
    a modal verb (``_is_modal_name``).
    """
    words = [token.text for token in doc]
    found = []
    for token in doc:
        if not token.text[:1].isupper():
            found.append(False)
            continue
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        named = _is_self_named(words, token.i, token.i) or _is_modal_name(
            token, following, bool(sentence_initial[token.i])
        )
        found.append(named and is_name_like(token.text, "PROPN", False, False, False))
    return found


def _name_like_flags(
    doc: Doc, opening_tokens: set[int], names_despite_tags: Sequence[bool]
) -> list[bool]:
    """Return ``is_name_like`` for each token of ``doc``, or True where
    ``names_despite_tags`` is."""
    flags = []
    for token in doc:
        if names_despite_tags[token.i]:
            flags.append(True)
            continue
        sentence_initial = token.is_sent_start or (token.i - 1) in opening_tokens
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        before_proper = (
            following is not None
            and following.pos_ == "PROPN"
            and following.text[:1].isupper()
        )
        flags.append(
            is_name_like(
                token.text,
                token.pos_,
                token.is_stop,
                bool(sentence_initial),
                before_proper,
            )
        )
    return flags


# Tags of a finite verb in the past or the third person singular: "Will came",
# "Will looks", where a modal would take a subject or a base form instead.
_FINITE_VERB_TAGS = frozenset({"VBD", "VBZ"})


def _is_modal_name(
    token: Token, following: Token | None, sentence_initial: bool
) -> bool:
    """Return True for a name that spaCy tags as a modal verb ("Will Ladislaw").

    A capitalised modal inside a sentence ("said Will") is a name, since the
    verb would be in lower case there. At a sentence start it is one before a
    name or a finite verb ("Will came in"), not before a subject ("Will you").
    """
    if not token.text[:1].isupper() or token.text.isupper():
        return False
    if token.tag_ != "MD":
        # "said Will" with "Will" tagged a common noun, which as a stop word
        # would be no name either.
        previous = token.nbor(-1) if token.i > 0 else None
        return (
            token.is_stop
            and not sentence_initial
            and previous is not None
            and previous.lemma_.lower() in SPEECH_VERBS
        )
    if not sentence_initial:
        return True
    if following is None:
        return False
    if following.pos_ == "PROPN" and following.text[:1].isupper():
        # "May Mrs. Cutlets and I come in?" is a request: a title follows no
        # given name.
        return not is_honorific(following.text)
    return following.tag_ in _FINITE_VERB_TAGS


def _name_like_runs(
    words: Sequence[str], name_like: Sequence[bool], taken: Sequence[bool]
) -> list[tuple[int, int]]:
    """Return maximal runs of name-like words outside other spans."""
    runs = []
    start = None
    for index in range(len(words) + 1):
        inside = index < len(words) and name_like[index] and not taken[index]
        if inside and start is None:
            start = index
        elif not inside and start is not None:
            trimmed = trim_span(words, start, index - 1, PER)
            if trimmed is not None:
                runs.append(trimmed)
            start = None
    return runs


def _mark_tokens(doc: Doc) -> tuple[set[int], set[int]]:
    """Return the indices of the opening and the closing quotation-mark tokens."""
    opening, closing, _heading = doc.user_data.get(QUOTE_MARKS_KEY, ((), (), False))
    opening_tokens = {token.i for token in doc if token.idx in opening}
    closing_tokens = {token.i for token in doc if token.idx in closing}
    return opening_tokens, closing_tokens


def _is_speech_subject(
    doc: Doc, start: int, end: int, closing_tokens: set[int]
) -> bool:
    """Return True when the span is the subject of a speech tag.

    That is the subject of a speech verb, the subject of any verb within three
    tokens after a closing quotation mark, or the word right after such a verb
    (``"Is the boat in?" asked Petra``, where the parser may call Petra an object).
    """
    token = doc[end]
    if (
        start > 0
        and doc[start - 1].pos_ == "VERB"
        and _follows_mark(start - 1, closing_tokens)
    ):
        return True
    if token.dep_ not in ("nsubj", "nsubjpass") or token.head.pos_ != "VERB":
        return False
    verb = token.head
    if verb.lemma_.lower() in SPEECH_VERBS:
        return True
    return _follows_mark(min(verb.i, start), closing_tokens)


# Verbs whose object, direct or after "to" or "with", is a person spoken to:
# "speak to Hill", "tell Martha". "Write to" is left out, since one writes to
# places and firms too.
_ADDRESS_VERBS = frozenset("ask speak talk tell thank whisper".split())


def _is_addressee(doc: Doc, end: int) -> bool:
    """Return True when the span's last word is someone spoken to ("speak to Hill")."""
    token = doc[end]
    head = token.head
    if token.dep_ == "pobj" and head.lower_ in ("to", "with"):
        head = head.head
    elif token.dep_ != "dobj":
        return False
    return head.pos_ == "VERB" and head.lemma_.lower() in _ADDRESS_VERBS


def _is_self_named(words: Sequence[str], start: int, end: int) -> bool:
    """Return True for a name given as the narrator's or speaker's own."""

    def word_at(index: int) -> str:
        return words[index] if 0 <= index < len(words) else ""

    return self_naming_pronoun(word_at, start, end) is not None


def _follows_mark(index: int, closing_tokens: set[int]) -> bool:
    return any(index - distance in closing_tokens for distance in (1, 2, 3))


def _pronoun_follows(doc: Doc, end: int) -> bool:
    """Return True when a he/she subject refers back to the subject span at ``end``.

    The pronoun must be the next person-like word after the span, in the same or
    the next sentence: "Agnes Moore found the letter when she came in".
    """
    token = doc[end]
    if token.dep_ not in ("nsubj", "nsubjpass"):
        return False
    sentence_end = token.sent.end
    if sentence_end < len(doc):
        sentence_end = doc[sentence_end].sent.end
    for other in doc[end + 1 : sentence_end]:
        lower = other.lower_
        if other.pos_ == "PRON" and lower in ("he", "she"):
            return other.dep_ in ("nsubj", "nsubjpass")
        if other.pos_ == "PROPN" or (
            other.pos_ == "NOUN" and other.lemma_.lower() in PERSON_NOUNS
        ):
            return False
    return False
