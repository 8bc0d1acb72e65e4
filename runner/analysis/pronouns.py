"""Link third-person pronouns to the person mention they most likely refer to.

A simple, deterministic heuristic, used for referential gender and for giving
pronoun mentions a character. A pronoun refers to the nearest earlier name or
person noun phrase that

- lies no more than ``MAX_SENTENCES_BACK`` sentences back, in the same or the
  previous paragraph;
- is on the same side of the quotation marks (both narration or both speech);
- does not contradict the pronoun's gender, as far as the candidate's gender is
  known (from an honorific, a person noun, a common given name, or the caller's
  cluster genders);
- is not the subject of the verb that governs a non-reflexive object pronoun
  ("Mrs. Harlow smiled at him" cannot mean herself).

A candidate known to have the pronoun's gender wins over a nearer one whose
gender is unknown.

``they``/``them``/``their`` link only when exactly one name is in reach and no
plural noun or coordination lies between, since they usually refer to a group.

A "he" or "she" with no antecedent in reach takes the antecedent of the nearest
earlier pronoun of its gender in reach, so that a run of pronouns pages long
keeps its person. Failing that, it takes the nearest mention known to have its
gender within ``MAX_PARAGRAPHS_BACK`` paragraphs and after the last heading.

Once names have characters (``prefer_characters``), a noun phrase in reach
that has none ("the old man"), and any name inside it, is passed over for a
candidate known to have the pronoun's gender: a named person is the likelier
referent. Failing one, the noun phrase is the antecedent when its gender
matches. One of unknown gender ("the cook") is the antecedent only when no
other rule finds one.

First-person singular pronouns outside quotes ("I", "me", "my") take no
antecedent. They refer to the narrator, and ``narrator_mentions`` makes them
mentions of their own. Inside a quote they refer to its speaker:
``quoted_first_person`` makes those mentions, and the cast gives them to the
speaker once the quote has one.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Protocol

from runner.analysis.entities import NOM, PER, PRON, PROP, VEH, Mention
from runner.analysis.lexicon import (
    HONORIFICS,
    PRONOUN_GENDER,
    REFLEXIVE_PRONOUNS,
    THEY,
    honorific_key,
)
from runner.analysis.token_table import TokenTable

MAX_SENTENCES_BACK = 2
# How far back a pronoun with no candidate in reach looks for a mention of
# its gender. On LitBank's 80 excerpts (scripts/evaluate_quotes.py), the
# characters of third-person pronouns reach precision 71.7% and recall 53.3%
# with 4 paragraphs, 72.2% and 50.8% with 1, and 71.2% and 54.2% with 8.
MAX_PARAGRAPHS_BACK = 4

_OBJECT_DEPS = frozenset({"dobj", "pobj", "dative", "iobj", "obj"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
_PLURAL_TAGS = frozenset({"NNS", "NNPS"})
# Candidates examined per pronoun at most, which bounds the work per pronoun. The
# sentence window usually ends the search well before.
_MAX_LOOKBACK = 50

# Words that a Roman numeral "I" follows in headings.
_NUMBERED_PARTS = frozenset(
    {"act", "book", "canto", "chapter", "letter", "part", "scene", "section",
     "stave", "volume"}
)

# First-person singular pronouns in lower case. Outside quotes they name the
# narrator: BookNLP 1.0.8 (``NameCoref.cluster_narrator``) uses the same four.
FIRST_PERSON_PRONOUNS = frozenset({"i", "me", "my", "myself"})

GenderOf = Callable[[Mention], str | None]


class QuoteSpan(Protocol):
    """A quote's first and last token, inclusive."""

    start_token: int
    end_token: int


def narrator_mentions(
    tokens: TokenTable, word: Callable[[int], str], quotes: Sequence[QuoteSpan]
) -> list[Mention]:
    """Return a PER PRON mention for each first-person pronoun outside quotes.

    ``first_person_key`` decides which tokens count.

    Args:
        tokens: the document's token table.
        word: returns the text of a token id.
        quotes: the quotes in text order, which do not overlap.
    """
    found = []
    quote_index = 0
    for token in range(len(tokens)):
        while quote_index < len(quotes) and quotes[quote_index].end_token < token:
            quote_index += 1
        if (
            quote_index < len(quotes)
            and quotes[quote_index].start_token <= token
        ):
            continue
        key = first_person_key(tokens, word, token)
        if key is not None:
            found.append(Mention(token, token, PER, PRON, token, key=key))
    return found


def quoted_first_person(
    tokens: TokenTable, word: Callable[[int], str], quote: QuoteSpan
) -> list[Mention]:
    """Return a PER PRON mention, marked in a quote, for each "I" or "me" in it."""
    found = []
    for token in range(quote.start_token, quote.end_token + 1):
        key = first_person_key(tokens, word, token)
        if key is not None:
            found.append(Mention(token, token, PER, PRON, token, key=key, in_quote=True))
    return found


def first_person_key(
    tokens: TokenTable, word: Callable[[int], str], token: int
) -> str | None:
    """Return the lower-case pronoun if the token is a first-person one, else None.

    A token counts when spaCy tags it PRON and its lower-case text is in
    ``FIRST_PERSON_PRONOUNS``. "I" counts only in capitals, so a lower-case "i"
    (a list marker, say) does not, unlike in BookNLP.
    """
    if tokens.pos_of(token) != "PRON":
        return None
    text = word(token)
    key = text.lower()
    if key not in FIRST_PERSON_PRONOUNS or (key == "i" and text != "I"):
        return None
    if key == "my" and _opens_title(word(token + 1)):
        return None
    if key == "i" and word(token - 1).lower() in _NUMBERED_PARTS:
        return None  # a Roman numeral: "SCENE I.", "Chapter I"
    return key


def _opens_title(word: str) -> bool:
    """Return True for a capitalised title, such as "Lady" in "my Lady Dedlock".

    A third-person narrator writes "my Lady" and "my Lord" as part of a title,
    so their "my" is not the narrator's.
    """
    return word[:1].isupper() and honorific_key(word) in HONORIFICS


def link_pronouns(
    mentions: Sequence[Mention],
    tokens: TokenTable,
    gender_of: GenderOf,
    excluded: frozenset[int] = frozenset(),
    prefer_characters: bool = False,
) -> dict[int, int]:
    """Return ``{pronoun mention index: antecedent mention index}``.

    Args:
        mentions: all mentions, sorted by start token.
        tokens: the document's token table.
        gender_of: the gender label a candidate antecedent is known to have.
        excluded: indices of mentions that are never antecedents.
        prefer_characters: pass over noun phrases without a character unless
            no other antecedent is found (see the module docstring).
    """
    candidates = [
        index
        for index, mention in enumerate(mentions)
        if mention.kind != PRON and mention.category == PER and index not in excluded
    ]
    # Sorted by end token, so that a bisect finds the mentions that end before a
    # pronoun even when a name sits inside a noun phrase ("Harlow's wife").
    candidates.sort(key=lambda index: mentions[index].end)
    candidate_ends = [mentions[index].end for index in candidates]
    links: dict[int, int] = {}
    for index, pronoun in enumerate(mentions):
        # Only gendered third-person pronouns take antecedents; the tagger also
        # types "those" of "those who knew him" as PRON. A ship's "her" is VEH.
        if pronoun.kind != PRON or pronoun.key not in PRONOUN_GENDER:
            continue
        if pronoun.category == VEH:
            continue
        position = bisect.bisect_left(candidate_ends, pronoun.start)
        reachable = _reachable(mentions, candidates, position, pronoun, tokens)
        if PRONOUN_GENDER[pronoun.key] == THEY:
            found = _plural_antecedent(mentions, reachable, pronoun, tokens)
        else:
            found = _singular_antecedent(
                mentions, reachable, pronoun, tokens, gender_of, prefer_characters
            )
            if found is None:
                found = _chained_antecedent(mentions, links, index, tokens)
            if found is None:
                earlier = candidates[max(position - _MAX_LOOKBACK, 0) : position]
                found = _distant_antecedent(
                    mentions, earlier, pronoun, tokens, gender_of
                )
            if found is None and prefer_characters:
                found = _singular_antecedent(
                    mentions, reachable, pronoun, tokens, gender_of, False
                )
        if found is not None:
            links[index] = found
    return links


def _reachable(
    mentions: Sequence[Mention],
    candidates: Sequence[int],
    position: int,
    pronoun: Mention,
    tokens: TokenTable,
) -> list[int]:
    """Return the candidates before ``position`` within reach, nearest first."""
    sentence = tokens.sentence[pronoun.start]
    paragraph = tokens.paragraph_of(pronoun.start)
    reachable = []
    for index in reversed(candidates[max(position - _MAX_LOOKBACK, 0) : position]):
        mention = mentions[index]
        if tokens.sentence[mention.start] < sentence - MAX_SENTENCES_BACK:
            break
        if tokens.paragraph_of(mention.start) < paragraph - 1:
            break
        if mention.in_quote == pronoun.in_quote:
            reachable.append(index)
    return reachable


def _singular_antecedent(
    mentions: Sequence[Mention],
    reachable: Sequence[int],
    pronoun: Mention,
    tokens: TokenTable,
    gender_of: GenderOf,
    prefer_characters: bool,
) -> int | None:
    """Return the antecedent in reach, by the rules in the module docstring.

    A candidate known to have the pronoun's gender wins. Failing one, a noun
    phrase passed over for want of a character wins if its gender matches,
    and then the nearest candidate whose gender is unknown.
    """
    wanted = PRONOUN_GENDER[pronoun.key]
    governor = _object_governor(pronoun, tokens)
    # The last noun phrase passed over, whose possessor ("Caddy" in "Caddy's
    # papa") must not take its place.
    passed_over: tuple[int, int] | None = None
    matching_nominal: int | None = None
    unknown_gender: int | None = None
    for index in reachable:
        mention = mentions[index]
        # "her ladies" is no antecedent of "she": a plural noun phrase takes
        # only "they".
        if mention.kind == NOM and tokens.tag_of(mention.head) in _PLURAL_TAGS:
            continue
        if passed_over and passed_over[0] <= mention.start <= passed_over[1]:
            continue
        if governor is not None and _is_subject_of(mention, governor, tokens):
            continue
        known = gender_of(mention)
        if known is not None and known != wanted:
            continue
        if prefer_characters and _uncast_nominal(mention):
            passed_over = (mention.start, mention.end)
            if known == wanted and matching_nominal is None:
                matching_nominal = index
        elif known is None:
            if unknown_gender is None:
                unknown_gender = index
        else:
            return index
    return matching_nominal if matching_nominal is not None else unknown_gender


def _uncast_nominal(mention: Mention) -> bool:
    return mention.kind == NOM and mention.character is None


def _chained_antecedent(
    mentions: Sequence[Mention],
    links: dict[int, int],
    index: int,
    tokens: TokenTable,
) -> int | None:
    """Return the antecedent of the nearest earlier pronoun of the same gender.

    The reach restarts at each pronoun along a run of "he" and "his", so the
    run keeps the antecedent of its first linked pronoun. An object pronoun
    does not chain to the subject of its own verb ("he struck him").
    """
    pronoun = mentions[index]
    gender = PRONOUN_GENDER[pronoun.key]
    governor = _object_governor(pronoun, tokens)
    sentence = tokens.sentence[pronoun.start]
    paragraph = tokens.paragraph_of(pronoun.start)
    for earlier in range(index - 1, max(index - _MAX_LOOKBACK, 0) - 1, -1):
        mention = mentions[earlier]
        if tokens.sentence[mention.start] < sentence - MAX_SENTENCES_BACK:
            return None
        if tokens.paragraph_of(mention.start) < paragraph - 1:
            return None
        if (
            mention.kind != PRON
            or mention.in_quote != pronoun.in_quote
            or PRONOUN_GENDER.get(mention.key) != gender
        ):
            continue
        if governor is not None and _is_subject_of(mention, governor, tokens):
            continue
        # The nearest pronoun of the gender decides. When it has no
        # antecedent, an older one's would be a guess past it.
        return links.get(earlier)
    return None


def _distant_antecedent(
    mentions: Sequence[Mention],
    earlier: Sequence[int],
    pronoun: Mention,
    tokens: TokenTable,
    gender_of: GenderOf,
) -> int | None:
    """Return the nearest candidate known to have the pronoun's gender.

    ``earlier`` contains the candidates that end before the pronoun, by end
    token. The search stops ``MAX_PARAGRAPHS_BACK`` paragraphs back or at a
    heading, and a candidate of unknown gender never counts, because it is
    too far back to be a guess.
    """
    gender = PRONOUN_GENDER[pronoun.key]
    governor = _object_governor(pronoun, tokens)
    paragraph = tokens.paragraph_of(pronoun.start)
    for index in reversed(earlier):
        mention = mentions[index]
        candidate_paragraph = tokens.paragraph_of(mention.start)
        if candidate_paragraph < paragraph - MAX_PARAGRAPHS_BACK:
            return None
        # A chapter heading in between starts another scene.
        if tokens.heading_between(candidate_paragraph, paragraph):
            return None
        if mention.in_quote != pronoun.in_quote:
            continue
        if governor is not None and _is_subject_of(mention, governor, tokens):
            continue
        if gender_of(mention) == gender:
            return index
    return None


def _object_governor(pronoun: Mention, tokens: TokenTable) -> int | None:
    """Return the verb governing a non-reflexive object pronoun, else None."""
    if pronoun.key in REFLEXIVE_PRONOUNS:
        return None
    dep = tokens.dep_of(pronoun.head)
    if dep not in _OBJECT_DEPS:
        return None
    governor = tokens.head[pronoun.head]
    if dep == "pobj":
        governor = tokens.head[governor]
    return governor


def _is_subject_of(mention: Mention, verb: int, tokens: TokenTable) -> bool:
    head = mention.head
    return tokens.dep_of(head) in _SUBJECT_DEPS and tokens.head[head] == verb


def _plural_antecedent(
    mentions: Sequence[Mention],
    reachable: Sequence[int],
    pronoun: Mention,
    tokens: TokenTable,
) -> int | None:
    names = [index for index in reachable if mentions[index].kind == PROP]
    if len(names) != 1 or reachable[0] != names[0]:
        return None
    mention = mentions[names[0]]
    # A plural noun or a coordinator ("Ada and Tobias") nearby means a group.
    nearby = range(max(mention.start - 1, 0), pronoun.start)
    for token in nearby:
        if mention.start <= token <= mention.end:
            continue
        tag = tokens.tag_of(token)
        if tag in _PLURAL_TAGS or tag == "CC":
            return None
    return names[0]
