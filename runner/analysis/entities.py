"""Entity and mention rules: label mapping, span repair, plausibility and names.

The functions take token words and tags as plain sequences, so they work on a spaCy
``Doc`` (through ``[t.text for t in doc]``) and in tests alike. Spans are
``(start, end)`` token indices with ``end`` inclusive, as in the result JSON.
``resolve_names`` then gives each name one category over the whole book.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Sequence

from runner.analysis.casing import CasingEvidence
from runner.analysis.lexicon import (
    GIVEN_NAME_GENDER,
    HONORIFICS,
    LONE_PARTICLES,
    NAME_PARTICLES,
    NOT_NAME_OPENERS,
    STAGE_DIRECTION_VERBS,
    NOT_NAMES,
    PLACE_WORDS,
    canonical_given_name,
    honorific_gender,
    honorific_key,
    name_word_key,
)

PROP = "PROP"
NOM = "NOM"
PRON = "PRON"

PER = "PER"
FAC = "FAC"
VEH = "VEH"
# spaCy's OntoNotes labels that have a LitBank-style category. NORP, dates,
# numbers and the rest are dropped.
# NOTE: VEH (vehicles) is never produced. spaCy has no vehicle label, and its
# PRODUCT label also covers objects, foods and the like, so it is dropped too.
CATEGORY_OF_LABEL: dict[str, str] = {
    "PERSON": PER,
    "GPE": "GPE",
    "LOC": "LOC",
    "FAC": FAC,
    "ORG": "ORG",
}

POSSESSIVE_ENDINGS = frozenset({"'s", "’s", "'", "’"})
_LEADING_DETERMINERS = frozenset({"the", "a", "an"})
# Dependency labels of the words that open a person noun phrase: "her uncle",
# "a stout man", "the old gardener".
_NOUN_PHRASE_LEFT_DEPS = frozenset({"det", "poss", "amod", "compound", "nummod"})
# Coarse tags that a one-word name never has; a rare given name may still be
# mistagged NOUN, ADV or X.
_NOT_NAME_POS = frozenset(
    {
        "PRON",
        "DET",
        "ADP",
        "AUX",
        "CCONJ",
        "SCONJ",
        "PART",
        "INTJ",
        "NUM",
        "PUNCT",
        "SYM",
        "VERB",
        "ADJ",
    }
)


@dataclasses.dataclass(slots=True)
class Mention:
    """A mention of an entity, in global token ids (``end`` inclusive).

    Attributes:
        category: PER, LOC, GPE, FAC or ORG.
        kind: PROP (a name), NOM (a common noun phrase) or PRON (a pronoun).
        head: the token whose syntactic role stands for the mention.
        key: the lower-case pronoun (PRON) or noun lemma (NOM); empty for PROP.
        words: the name's words for PROP PER mentions, possessive removed.
        gender: the gender label that an honorific, a pronoun, a person noun or a
            common given name (``GIVEN_NAME_GENDER``) implies, if any.
        in_quote: the mention lies inside a quote.
        character: the character id, once characters are built.
    """

    start: int
    end: int
    category: str
    kind: str
    head: int
    key: str = ""
    words: tuple[str, ...] = ()
    gender: str | None = None
    in_quote: bool = False
    character: int | None = None


def without_format_characters(word: str) -> str:
    """Return ``word`` without Unicode format (Cf) characters, or unchanged.

    Zero-width spaces, soft hyphens and word joiners are invisible inside a
    name, and a name with one must still match the same name without it.
    """
    if word.isascii():
        return word
    return "".join(char for char in word if unicodedata.category(char) != "Cf")


def is_punctuation(word: str) -> bool:
    """Return True when ``word`` has no letter or digit."""
    return not any(char.isalnum() for char in word)


def trim_span(
    words: Sequence[str], start: int, end: int, category: str
) -> tuple[int, int] | None:
    """Strip punctuation and a possessive ending from both ends of a span.

    A person's span also loses a leading article ("the Captain" stays "Captain").
    Returns None when nothing is left.
    """
    while start <= end and is_punctuation(words[start]):
        start += 1
    while end >= start and (
        is_punctuation(words[end])
        or (end > start and words[end] in POSSESSIVE_ENDINGS)
    ):
        end -= 1
    if category == PER:
        while start < end and words[start].lower() in _LEADING_DETERMINERS:
            start += 1
    return (start, end) if start <= end else None


def with_title_article(
    words: Sequence[str], span_start: int, start: int, end: int
) -> int:
    """Return the start of a person run, moved back over "the" before a lone title.

    "the Captain" and "the Queen" name one person in a book, like a name, but
    the run contains only a title, which alone is no name. Keeping the article
    makes the mention "the Captain". ``span_start`` is where the labelled
    span began; the article must lie inside it.
    """
    if start > span_start and _titles_after_the(words, start, end):
        return start - 1
    return start


def extend_over_honorifics(words: Sequence[str], start: int) -> int:
    """Move ``start`` left over capitalised honorifics (``Mr.``, ``Lady``, ``Dr``)."""
    while start > 0 and is_honorific(words[start - 1]):
        start -= 1
    return start


def is_honorific(word: str) -> bool:
    """Return True for a capitalised honorific or title ("Mr.", "Lady")."""
    return word[:1].isupper() and honorific_key(word) in HONORIFICS


def starts_with_honorific(words: Sequence[str], start: int, end: int) -> bool:
    """Return True when the span opens with an honorific followed by a name."""
    return start < end and is_honorific(words[start])


def honorific_name_spans(
    words: Sequence[str], pos: Sequence[str], taken: Sequence[bool]
) -> list[tuple[int, int]]:
    """Find ``Honorific + proper noun(s)`` runs that the NER model left unlabelled.

    Args:
        words: token texts.
        pos: coarse POS tags.
        taken: True for tokens already inside an entity span.
    """
    spans = []
    i = 0
    while i < len(words) - 1:
        if (
            taken[i]
            or not is_honorific(words[i])
            or not _is_name_word(words[i + 1], pos[i + 1])
        ):
            i += 1
            continue
        end = i + 1
        while (
            end + 1 < len(words)
            and end - i < 4
            and not taken[end + 1]
            and _is_name_word(words[end + 1], pos[end + 1])
        ):
            end += 1
        if not any(taken[i : end + 1]):
            spans.append((i, end))
        i = end + 1
    return spans


def title_spans(words: Sequence[str], taken: Sequence[bool]) -> list[tuple[int, int]]:
    """Find "the" and a lone capitalised title ("the Captain", "The Queen").

    A book names one person so, as it would by a name.

    Args:
        words: token texts.
        taken: True for tokens already inside an entity span.
    """
    return [
        (index - 1, index)
        for index in range(1, len(words))
        if follows_the_alone(words, index, index)
        and not taken[index - 1]
        and not taken[index]
    ]


def follows_the_alone(words: Sequence[str], start: int, end: int) -> bool:
    """Return True when ``words[start:end + 1]`` are titles alone after "the".

    A title followed by a capitalised word or "of" ("the Duke of Omnium",
    "the Captain Ahab") is part of a longer name and does not count.
    """
    if not _titles_after_the(words, start, end):
        return False
    following = words[end + 1] if end + 1 < len(words) else ""
    return not following[:1].isupper() and following.lower() != "of"


def _titles_after_the(words: Sequence[str], start: int, end: int) -> bool:
    """Return True when ``words[start:end + 1]`` are all titles and follow "the"."""
    if start < 1 or words[start - 1].lower() != "the":
        return False
    return all(is_honorific(word) for word in words[start : end + 1])


def _is_name_word(word: str, pos: str) -> bool:
    return pos == "PROPN" and word[:1].isupper()


def is_plausible_person(words: Sequence[str], pos: Sequence[str]) -> bool:
    """Reject PER spans that are likely model errors.

    Rejected are spans in capitals (headings such as ``CHAPTER`` or ``THE
    LETTER``) and spans made only of honorifics. A single word is rejected when it
    is not capitalised, when it is tagged as a function word, verb or adjective,
    or when it is in ``NOT_NAMES`` or ``LONE_PARTICLES`` ("La!").
    """
    letters = [char for word in words for char in word if char.isalpha()]
    if len(letters) >= 2 and all(char.isupper() for char in letters):
        return False
    name_words = [word for word in words if not is_honorific(word)]
    if not name_words:
        return False
    if len(words) == 1:
        word = words[0]
        if len(word) < 2 or not word[0].isupper() or pos[0] in _NOT_NAME_POS:
            return False
        key = name_word_key(word).rstrip(".")
        if key in NOT_NAMES or key in LONE_PARTICLES:
            return False
    return True


def noun_phrase_start(
    words: Sequence[str], deps: Sequence[str], heads: Sequence[int], noun: int
) -> int:
    """Return the first token of the person noun phrase ending at ``noun``.

    Walks left over determiners, possessives and modifiers that attach inside the
    phrase, so "her uncle" and "a stout man" come out whole.
    """
    start = noun
    while start > 0:
        previous = start - 1
        if deps[previous] not in _NOUN_PHRASE_LEFT_DEPS or is_punctuation(
            words[previous]
        ):
            break
        if not start <= heads[previous] <= noun:
            break
        start = previous
    return start


@dataclasses.dataclass(frozen=True, slots=True)
class NameCandidate:
    """A proper-noun span found while parsing, before the book-wide label vote.

    Attributes:
        start, end: global token ids, ``end`` inclusive.
        words: the span's words.
        category: the NER category, PER for an honorific name, or None for a run
            of name-like words that the NER model left unlabelled.
        person_evidence: the syntax shows a person: the span is the subject of a
            speech tag, or a ``he``/``she`` subject follows it with no other
            person in between.
        plausible_person: ``is_plausible_person`` holds for the span.
        sentence_initial: the first word starts a sentence or follows an
            opening quotation mark, so its capital does not show a name.
    """

    start: int
    end: int
    words: tuple[str, ...]
    category: str | None
    person_evidence: bool
    plausible_person: bool
    sentence_initial: bool = False


# A piece of syntactic person evidence outweighs this many NER labels, because
# the small model often labels unfamiliar given names ORG, GPE or LOC.
PERSON_EVIDENCE_WEIGHT = 3


def is_name_like(
    word: str, pos: str, is_stop: bool, sentence_initial: bool, before_proper: bool
) -> bool:
    """Return True for a word that may be part of a name.

    A capitalised word, not in capitals throughout, qualifies when tagged PROPN.
    Tagged NOUN, ADV or X (the small model's usual errors on rare given names), it
    qualifies when it is not a stop word and does not start a sentence. At a
    sentence start it qualifies when a proper noun follows ("Rosalind Pike").
    """
    letters = word.replace("’", "").replace("'", "").replace("-", "")
    if not word[:1].isupper() or not letters.isalpha():
        return False
    if word.isupper() and len(word) > 1:
        return False
    if name_word_key(word) in NOT_NAMES:
        return False
    if pos == "PROPN":
        return True
    if is_stop or pos not in ("NOUN", "ADV", "X"):
        return False
    return not sentence_initial or before_proper


def split_person_span(
    words: Sequence[str],
    pos: Sequence[str],
    is_stop: Sequence[bool],
    start: int,
    end: int,
) -> list[tuple[int, int]]:
    """Split a PER span into runs of capitalised words and trim their openings.

    The small model sometimes labels a whole clause ("Then Mary knew Dickon") or
    a name with a following adverb ("Colin calmly"). Lower-case words other than
    name particles ("de", "van") end a run. A run loses leading stop words and
    adjectives ("Then Mary", "Poor Colin") unless they are proper nouns, and
    leading ``NOT_NAMES`` words ("Majesty George").
    """
    runs = []
    run_start = None
    for index in range(start, end + 2):
        inside = index <= end and (
            words[index][:1].isupper()
            or (run_start is not None and words[index].lower() in NAME_PARTICLES)
        )
        if inside and run_start is None:
            run_start = index
        elif not inside and run_start is not None:
            runs.append((run_start, index - 1))
            run_start = None
    trimmed = []
    for run_start, run_end in runs:
        while run_start < run_end and _opens_badly(
            words[run_start], pos[run_start], is_stop[run_start]
        ):
            run_start += 1
        while run_end > run_start and words[run_end].lower() in NAME_PARTICLES:
            run_end -= 1
        trimmed.append((run_start, run_end))
    return trimmed


def _opens_badly(word: str, pos: str, is_stop: bool) -> bool:
    """Return True for a word that cannot open a person's name ("Then", "Majesty")."""
    if is_honorific(word):
        return False
    if pos in ("ADJ", "ADV", "DET", "INTJ", "CCONJ", "SCONJ", "ADP"):
        return True
    key = name_word_key(word)
    return (is_stop and pos != "PROPN") or key in NOT_NAMES or key in NOT_NAME_OPENERS


def looks_like_name(words: Sequence[str]) -> bool:
    """Return True when a proper-noun span opens with a capital after any article.

    Filters spans such as "callin" or "fox" that the NER model labels GPE or ORG.
    """
    index = 0
    while index < len(words) - 1 and words[index].lower() in _LEADING_DETERMINERS:
        index += 1
    first = words[index]
    if not first[:1].isupper():
        return False
    return len(words) > 1 or name_word_key(first) not in NOT_NAMES


def name_key(words: Sequence[str]) -> str:
    """Return a span's words without leading honorifics, joined by spaces."""
    index = 0
    while index < len(words) - 1 and is_honorific(words[index]):
        index += 1
    rest = list(words[index:])
    # "The Queen" opening a sentence is the same name as "the Queen".
    if len(rest) > 1 and rest[0].lower() in _LEADING_DETERMINERS:
        rest[0] = rest[0].lower()
    return " ".join(rest)


def drop_common_first_words(
    candidates: Sequence[NameCandidate], casing: CasingEvidence
) -> list[NameCandidate]:
    """Remove a sentence-initial first word that the book uses as a common word.

    "Accordingly Turkey" becomes "Turkey", and "Ere" alone is no name at all
    (see ``runner.analysis.casing``). Honorifics are never common words. A
    stage direction's verb goes too, wherever it stands ("Exeunt Rosencrantz").
    """
    trimmed = []
    for candidate in candidates:
        first = candidate.words[0]
        # "The" before a lone title is part of the name ("The Queen").
        kept_article = first.lower() == "the" and len(candidate.words) > 1
        stage_verb = name_word_key(first) in STAGE_DIRECTION_VERBS
        if not stage_verb and (
            not candidate.sentence_initial
            or not casing.is_common_word(first)
            or kept_article
        ):
            trimmed.append(candidate)
            continue
        if len(candidate.words) == 1:
            continue
        trimmed.append(
            dataclasses.replace(
                candidate,
                start=candidate.start + 1,
                words=candidate.words[1:],
                sentence_initial=False,
            )
        )
    return trimmed


def resolve_names(
    candidates: Sequence[NameCandidate], casing: CasingEvidence | None = None
) -> list[Mention]:
    """Turn candidates into PROP mentions with one category per name in the book.

    With ``casing``, sentence-initial common words are first removed from the
    candidates (``drop_common_first_words``).

    spaCy's small model labels the same name differently from sentence to
    sentence and misses unfamiliar names (``Tunde``, ``Adaeze``). So each name
    takes the category with most votes over the book, where a candidate's NER
    label is one vote and its person evidence ``PERSON_EVIDENCE_WEIGHT`` PER
    votes (a tie keeps the candidate's own label). A candidate with person
    evidence is always PER. An unlabelled run becomes a mention when its name
    has votes, or, failing that, when it is a part of a PER name or has a PER
    name as its first or last word (``Cecily`` and ``Cecily Harlow``). A PER
    name of two or more words ending in a place word (``Fenwick Lane``) becomes
    FAC.

    NOTE: a place that the model labels PERSON more often than not (a county such
    as "Yorkshire") stays PER, because no gazetteer is consulted.
    """
    if casing is not None:
        candidates = drop_common_first_words(candidates, casing)
    votes: dict[str, Counter[str]] = {}
    for candidate in candidates:
        tally = votes.setdefault(name_key(candidate.words), Counter())
        if candidate.category is not None:
            tally[candidate.category] += 1
        if candidate.person_evidence:
            tally[PER] += PERSON_EVIDENCE_WEIGHT
    winners = {key: _winner(tally) for key, tally in votes.items()}
    categories: list[str | None] = [None] * len(candidates)
    # A name found through its parts can make its own parts names in turn
    # ("Cecily Harlow" through "Harlow", then "Cecily"); three rounds cover that.
    for _round in range(3):
        person_parts = _person_name_parts(winners, candidates, categories)
        changed = False
        for index, candidate in enumerate(candidates):
            category = _final_category(candidate, winners, person_parts)
            if category != categories[index]:
                categories[index] = category
                changed = True
        if not changed:
            break
    mentions = []
    for candidate, category in zip(candidates, categories):
        if category == PER and _ends_in_place_word(candidate.words):
            category = "FAC"
        if category is None or not looks_like_name(candidate.words):
            continue
        if category == PER and not candidate.plausible_person:
            continue
        mentions.append(_proper_mention(candidate, category))
    return mentions


def _ends_in_place_word(words: Sequence[str]) -> bool:
    """Return True for "Fenwick Lane" or "Box Hill", not "Hill" or "Mrs. Hill".

    A place word alone, or after a title, is a surname (Mrs. Bennet's
    housekeeper is Hill).
    """
    if len(words) < 2 or is_honorific(words[0]):
        return False
    return words[-1].lower() in PLACE_WORDS


def _winner(tally: Counter[str]) -> str | None:
    ranked = tally.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _person_name_parts(
    winners: dict[str, str | None],
    candidates: Sequence[NameCandidate],
    categories: Sequence[str | None],
) -> set[str]:
    """Return the first and last words of the names that are PER so far."""
    keys = {key for key, category in winners.items() if category == PER}
    keys.update(
        name_key(candidate.words)
        for candidate, category in zip(candidates, categories)
        if category == PER
    )
    parts = set()
    for key in keys:
        words = [word for word in key.split() if word.lower() not in NAME_PARTICLES]
        if words:
            parts.update({words[0], words[-1]})
    return parts


def _final_category(
    candidate: NameCandidate, winners: dict[str, str | None], person_parts: set[str]
) -> str | None:
    if candidate.person_evidence:
        return PER
    key = name_key(candidate.words)
    winner = winners.get(key)
    if winner is not None:
        return winner
    if candidate.category is not None:
        return candidate.category
    words = key.split()
    if words and (
        key in person_parts or words[0] in person_parts or words[-1] in person_parts
    ):
        return PER
    return None


def _proper_mention(candidate: NameCandidate, category: str) -> Mention:
    gender = None
    if category == PER:
        # The first title gives the gender: "Mrs. Bennet", "the Queen".
        titles = [word for word in candidate.words if is_honorific(word)]
        gender = honorific_gender(honorific_key(titles[0])) if titles else None
        given = name_key(candidate.words).split()[0].lower()
        gender = gender or GIVEN_NAME_GENDER.get(canonical_given_name(given))
    return Mention(
        start=candidate.start,
        end=candidate.end,
        category=category,
        kind=PROP,
        head=candidate.end,
        words=candidate.words,
        gender=gender,
    )
