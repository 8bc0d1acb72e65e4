"""Cluster person names into characters and summarise their gender.

Each PER name is read as an optional honorific plus name parts, and gets a key:

- a full name (two or more parts: ``Fitzwilliam Darcy``, ``Mr. Fitzwilliam
  Darcy``) is keyed by given name and surname;
- an honorific with one part is a surname (``Mr. Darcy``, keyed by the
  honorific's class: male, married female, unmarried female or the neutral
  honorific itself) or a given name (``Lady Catherine``, ``Master Colin``), decided
  by what the book's full names show;
- a bare word is a given name when some full name starts with it, a surname when
  some full or honorific name ends with it, else a given name of its own.

Keys then merge: an honorific surname joins the only full name with that surname
whose gender does not contradict it (``Miss Harlow`` joins ``Cecily Harlow``, but
``Mr. Harlow`` does not), and a given name joins the most frequent full name
starting with it. ``Mrs. X`` joins a full name only if that full name was itself
written with ``Mrs.``: a married woman and a daughter share the surname. A bare
surname (``Harlow``, ``Bennet``) is resolved one mention at a time: to the
candidate whose gender fits the pronouns that refer to that mention, else to the
most frequent candidate.

Before any of this, ``retype_place_names`` retypes one-word "names" that also
open a longer place name in the same book (``Misselthwaite`` beside
``Misselthwaite Manor``), and ``retype_located_names`` those that the book
mostly writes after "at" or "in" (``at Longbourn``), so that they are no
characters.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from runner.analysis.entities import (
    PER,
    POSSESSIVE_ENDINGS,
    PROP,
    Mention,
    is_honorific,
)
from runner.analysis.lexicon import (
    FEMALE_HONORIFICS,
    GENDER_LABELS,
    GIVEN_NAME_DEFAULT,
    GIVEN_NAME_GENDER,
    GIVEN_NAME_HONORIFICS,
    HE,
    HONORIFICS,
    MALE_HONORIFICS,
    MARRIED_FEMALE_HONORIFICS,
    NAME_PARTICLES,
    SHE,
    canonical_given_name,
    honorific_gender,
    honorific_key,
)

Key = tuple[str, ...]

# Entity categories of places. A word of a longer place name that is also a
# one-word PER name is taken for the place (see ``retype_place_names``).
PLACE_CATEGORIES = frozenset({"FAC", "GPE", "LOC"})
# Ranks that novels keep using with the name: "Sir Walter", seldom "Walter".
RANK_HONORIFICS = frozenset({"sir", "lord", "lady", "dame"})

# Titles that come only before a person's name (see ``retype_titled_names``).
PERSONAL_TITLES = frozenset(
    """
    dr frau fraulein herr madame mademoiselle messrs miss mister mlle mme monsieur
    mr mrs ms senor senora signor signora
    """.split()
)


@dataclasses.dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name split into an honorific key and the name parts as written."""

    honorific: str | None
    parts: tuple[str, ...]


def parse_name(words: Sequence[str]) -> PersonName | None:
    """Split a PER span's words into honorific and name parts; None if no name."""
    cleaned = [word for word in words if any(char.isalpha() for char in word)]
    cleaned = [word for word in cleaned if word not in {"'s", "’s"}]
    # A name set in capitals, as in a play's cue ("PIP"), is the same name, and
    # so is one whose accents are decomposed ("e" and U+0301 for "é").
    cleaned = [
        word.capitalize() if word.isupper() and len(word) > 1 else word
        for word in cleaned
    ]
    cleaned = [unicodedata.normalize("NFC", word) for word in cleaned]
    honorific = None
    index = 0
    # Of several titles, the one next to the name counts: "the Reverend Mr.
    # Collins" is "Mr. Collins".
    while index < len(cleaned) - 1 and honorific_key(cleaned[index]) in HONORIFICS:
        honorific = honorific_key(cleaned[index])
        index += 1
    parts = tuple(cleaned[index:])
    if not parts or (
        honorific is None and honorific_key(parts[0]) in HONORIFICS and len(parts) == 1
    ):
        return None
    return PersonName(honorific, parts)


def retype_titled_names(mentions: Sequence[Mention]) -> int:
    """Type PER every name that starts with a title only people carry.

    The tagger types "Mrs. Hill" FAC now and then (from "Hill"), which keeps
    her from speaking the quotes that name her. Titles that also open place
    names ("King's Cross", "Lady Chapel") are not in ``PERSONAL_TITLES``.
    Changes ``Mention.category`` in place and returns the number retyped.
    """
    retyped = 0
    for mention in mentions:
        if mention.kind != PROP or mention.category == PER or len(mention.words) < 2:
            continue
        if honorific_key(mention.words[0]) in PERSONAL_TITLES:
            mention.category = PER
            retyped += 1
    return retyped


def retype_place_names(mentions: Sequence[Mention]) -> int:
    """Retype one-word PER names that the book also uses as places.

    The tagger types "Misselthwaite Manor" FAC but the bare "Misselthwaite" PER,
    so the house became a character and took the pronouns of nearby people. A
    one-word PER name gets the place's category when some FAC, GPE or LOC name
    has it as a word other than its last one. A person's name of two or more
    words protects the word ("Sir Henry Baskerville" keeps "Baskerville" a person
    beside "Baskerville Hall"). A one-word name that the tagger types a place
    more often than a person is a place throughout too: Emma's "Enscombe" is
    GPE 18 times and PER 14, where person evidence (a "he" after it) kept the
    14 PER. Changes ``Mention.category`` in place and returns the number of
    mentions retyped.
    """
    place_words: dict[str, Counter[str]] = {}
    person_words: set[str] = set()
    # The categories of each one-word name.
    alone: dict[str, Counter[str]] = {}
    for mention in mentions:
        if mention.kind != PROP:
            continue
        if len(mention.words) == 1:
            alone.setdefault(mention.words[0], Counter())[mention.category] += 1
        words = [word for word in mention.words if word[:1].isupper()]
        if mention.category in PLACE_CATEGORIES and len(mention.words) > 1:
            for word in words[:-1]:
                if honorific_key(word) not in HONORIFICS and word != "The":
                    place_words.setdefault(word, Counter())[mention.category] += 1
        elif mention.category == PER and len(words) > 1:
            person_words.update(words)
    retyped = 0
    for mention in mentions:
        if mention.kind != PROP or mention.category != PER:
            continue
        if len(mention.words) != 1 or mention.words[0] in person_words:
            continue
        categories = place_words.get(mention.words[0])
        if not categories:
            categories = Counter(
                {
                    category: count
                    for category, count in alone[mention.words[0]].items()
                    if category in PLACE_CATEGORIES
                }
            )
            if categories.total() <= alone[mention.words[0]][PER]:
                continue
        mention.category = categories.most_common(1)[0][0]
        retyped += 1
    return retyped


# Prepositions that put a name in a place: "at Longbourn", "in Kent". "to" and
# "from" count only after a word of travel ("drove over to Brassing", "back
# from Brassing"), because people are talked to and hear from each other.
# Names after "at" are mostly houses (FAC), names after the others towns and
# counties (GPE).
_AT_PLACE = frozenset({"at"})
_IN_PLACE = frozenset({"in", "into", "near", "inside"})
_TRAVEL_PREPOSITIONS = frozenset({"to", "from"})
_TRAVEL_WORDS = frozenset(
    "back came come comes coming down drive driven drives driving drove gone go "
    "goes going journey journeyed over removed return returned returning ride "
    "rides riding road rode set started travel travelled traveling traveled "
    "walk walked walking way went".split()
)
# A name is a place when at least this share of its mentions, and at least
# this many, follow such a preposition. Those must also outnumber its mentions
# as a subject ("Tom said") this many times over, because people are looked
# at, confided in and run into as well.
LOCATED_SHARE = 0.4
MIN_LOCATED = 2
LOCATED_PER_SUBJECT = 4
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
# A one-word name used at least this often, never as a subject and mostly
# after a preposition, is a place: Middlemarch's Brassing (21 uses: "at
# Brassing", "men from Brassing", "citizens of Brassing") and Frick. A
# person of that many mentions acts somewhere in the book.
MIN_USES_NEVER_SUBJECT = 8
PREPOSITION_OBJECT_SHARE = 0.75


def _never_acts(tally: Counter[str]) -> bool:
    """Return True for a name's tally that ``MIN_USES_NEVER_SUBJECT`` makes a place."""
    return (
        tally["all"] >= MIN_USES_NEVER_SUBJECT
        and tally["subject"] == 0
        and tally["object of preposition"] >= PREPOSITION_OBJECT_SHARE * tally["all"]
    )


def retype_located_names(
    mentions: Sequence[Mention],
    word_at: Callable[[int], str],
    dep_at: Callable[[int], str],
) -> int:
    """Retype one-word PER names that the book mostly puts after "at" or "in".

    The tagger types Longbourn and Pemberley PER, and pronouns then attach to
    them. A name written "at Longbourn" and "in Kent" again and again, and
    seldom a subject, is a place. A possessive ("in Lucy's hand") does not
    count. ``word_at`` and ``dep_at`` return the word and the dependency label
    of a token id (the word "" outside the book). Changes ``Mention.category``
    in place and returns the number retyped.
    """
    counts: dict[str, Counter[str]] = {}
    for mention in mentions:
        if mention.kind != PROP or mention.category != PER or len(mention.words) != 1:
            continue
        tally = counts.setdefault(mention.words[0], Counter())
        tally["all"] += 1
        if dep_at(mention.head) in _SUBJECT_DEPS:
            tally["subject"] += 1
        elif dep_at(mention.head) == "pobj":
            tally["object of preposition"] += 1
        possessive = {word_at(mention.end), word_at(mention.end + 1)}
        if possessive & POSSESSIVE_ENDINGS:
            continue
        before = word_at(mention.start - 1).lower()
        if before in _AT_PLACE:
            tally["FAC"] += 1
        elif before in _IN_PLACE:
            tally["GPE"] += 1
        elif (
            before in _TRAVEL_PREPOSITIONS
            and word_at(mention.start - 2).lower() in _TRAVEL_WORDS
        ):
            tally["GPE"] += 1
    places = {}
    for name, tally in counts.items():
        located = tally["FAC"] + tally["GPE"]
        frequent = located >= MIN_LOCATED and located >= LOCATED_SHARE * tally["all"]
        if frequent and located >= LOCATED_PER_SUBJECT * tally["subject"]:
            places[name] = "FAC" if tally["FAC"] >= tally["GPE"] else "GPE"
        elif _never_acts(tally):
            places[name] = "GPE"
    return _retype_one_word_names(mentions, places)


def _retype_one_word_names(
    mentions: Sequence[Mention], categories: dict[str, str]
) -> int:
    """Give one-word PER names their place category in ``categories``; count them."""
    retyped = 0
    for mention in mentions:
        if (
            mention.kind == PROP
            and mention.category == PER
            and len(mention.words) == 1
            and mention.words[0] in categories
        ):
            mention.category = categories[mention.words[0]]
            retyped += 1
    return retyped


# A possessive that owns nothing names a shop or a house: "took shelter at
# Ford's", "Ford's was the principal woollen-draper" (Emma). A one-word name
# that the book writes so in at least this share of its uses, and at least
# twice, is a place. A person's name owns something far more often ("Harriet's
# feelings") than it names a house ("went to Harriet's").
OWNS_NOTHING_SHARE = 0.5
MIN_OWNS_NOTHING = 2
# A lone apostrophe also closes quotes ("‘Tom’ had taken"), so only "'s"
# counts.
_SINGULAR_POSSESSIVES = frozenset({"'s", "’s"})
# A gerund is owned too ("my brother Gardiner's drawing up").
_OWNED_POS = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "ADV", "VERB"})


def retype_shop_names(
    mentions: Sequence[Mention],
    word_at: Callable[[int], str],
    pos_at: Callable[[int], str],
) -> int:
    """Retype one-word PER names written mostly as a possessive that owns nothing.

    ``word_at`` and ``pos_at`` return the word and coarse tag of a token id (""
    outside the book). Such names become FAC in place; returns how many
    mentions changed.
    """
    counts: dict[str, Counter[str]] = {}
    for mention in mentions:
        if mention.kind != PROP or mention.category != PER or len(mention.words) != 1:
            continue
        before = word_at(mention.start - 1)
        if is_honorific(before) or before.lower() in _ARTICLES:
            # A family ("Mr. and Mrs. Gardiner's coming") or an office ("at
            # the Archdeacon's") owns a house but stays a person.
            continue
        tally = counts.setdefault(mention.words[0], Counter())
        tally["all"] += 1
        ending = mention.end + 1
        owned = pos_at(ending + 1) in _OWNED_POS
        if word_at(ending) in _SINGULAR_POSSESSIVES and not owned:
            tally["owns nothing"] += 1
    shops = {
        name: "FAC"
        for name, tally in counts.items()
        if tally["owns nothing"] >= MIN_OWNS_NOTHING
        and tally["owns nothing"] >= OWNS_NOTHING_SHARE * tally["all"]
    }
    return _retype_one_word_names(mentions, shops)


# A personal name takes no article, so a capitalised word that the book mostly
# writes after one is a ship, an animal or a description: "the Pequod", "the
# Sperm Whale", "an Englishman". Such names become characters only when they
# speak ("said the Hatter").
_ARTICLES = frozenset({"the", "a", "an"})
_QUOTE_MARKS = frozenset({'"', "'", "“", "‘"})
ARTICLE_SHARE = 0.5


def silent_article_names(
    mentions: Sequence[Mention],
    word_at: Callable[[int], str],
    speaks: Callable[[Mention], bool],
) -> set[tuple[str, ...]]:
    """Return the PER names, without articles, that follow an article and never speak.

    A name counts when at least ``ARTICLE_SHARE`` of its mentions start with or
    follow "the", "a" or "an", and ``speaks`` is False for all of them. Names
    with an honorific ("the Reverend Mr. Collins") never count.
    """
    tallies: dict[tuple[str, ...], Counter[str]] = {}
    for mention in mentions:
        if mention.kind != PROP or mention.category != PER:
            continue
        name = parse_name(mention.words)
        if name is None or name.honorific is not None:
            continue
        parts = without_articles(name.parts)
        # A lone title after "the" ("the Duke") is a person, as with a name.
        if not parts or all(honorific_key(part) in HONORIFICS for part in parts):
            continue
        tally = tallies.setdefault(parts, Counter())
        tally["all"] += 1
        first, before = word_at(mention.start).lower(), word_at(mention.start - 1)
        if before in _QUOTE_MARKS:
            # A paper's or a ship's name is often quoted: the "Pioneer".
            before = word_at(mention.start - 2)
        if first in _ARTICLES or before.lower() in _ARTICLES:
            tally["article"] += 1
        if speaks(mention):
            tally["speaks"] += 1
    return {
        parts
        for parts, tally in tallies.items()
        if tally["article"] >= ARTICLE_SHARE * tally["all"] and not tally["speaks"]
    }


def without_articles(parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part for part in parts if part.lower() not in _ARTICLES)


def _given_and_surname(parts: tuple[str, ...]) -> tuple[str, str]:
    surname_parts = [part for part in parts[1:] if part.lower() not in NAME_PARTICLES]
    surname = surname_parts[-1] if surname_parts else parts[-1]
    return canonical_given_name(parts[0]), surname.lower()


# Titles of saints, whose given name is no one else's.
_SAINTS = frozenset({"st", "saint"})
# The surname classes of ``_surname_class`` that name women.
_WOMENS_CLASSES = frozenset({"married", "unmarried"})


def _surname_class(honorific: str) -> str:
    if honorific in ("mr", "mister"):
        return "mister"
    if honorific in MALE_HONORIFICS:
        return "male"
    if honorific in MARRIED_FEMALE_HONORIFICS or honorific == "lady":
        return "married"
    if honorific in FEMALE_HONORIFICS:
        return "unmarried"
    return "title:" + honorific


def gender_argmax(votes: Counter[str]) -> str | None:
    """Return the label with most votes, or None without votes or on a tie."""
    ranked = votes.most_common(2)
    if not ranked or ranked[0][1] == 0:
        return None
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def gender_summary(votes: Counter[str]) -> dict[str, Any]:
    """Return ``{"argmax", "inference", "evidence"}`` for a character's votes."""
    evidence = sum(votes[label] for label in GENDER_LABELS)
    if evidence == 0:
        return {"argmax": None, "inference": {}, "evidence": 0}
    inference = {label: round(votes[label] / evidence, 3) for label in GENDER_LABELS}
    return {
        "argmax": gender_argmax(votes),
        "inference": inference,
        "evidence": evidence,
    }


def display_name(forms: Counter[str]) -> str:
    """Pick a character's name: its most frequent full name, else its commonest form.

    A full name without an honorific ("Elizabeth Bennet") beats one with it
    ("Miss Elizabeth Bennet"). Ties go to the longer form, then to the
    alphabetically first. In a character seen more than twice, a full name seen
    only once does not count: one tagging slip ("Meanwhile Bartleby") or one
    formal use ("Mr. Fitzwilliam Darcy") should not name the character.
    """
    min_count = 2 if max(forms.values(), default=0) > 2 else 1
    plain = Counter(
        {
            form: n
            for form, n in forms.items()
            if n >= min_count and _full_form(form) == "plain"
        }
    )
    titled = Counter(
        {
            form: n
            for form, n in forms.items()
            if n >= min_count and _full_form(form) == "titled"
        }
    )
    # "Doctor Strong" names him better than "the Doctor", though used less.
    without_article = Counter(
        {
            form: n
            for form, n in forms.items()
            if n >= min_count and not form.lower().startswith("the ")
        }
    )
    pool = plain or titled or without_article or forms
    return min(pool, key=lambda form: (-pool[form], -len(form), form))


def _full_form(form: str) -> str | None:
    """Return "plain" or "titled" for a full name without or with an honorific.

    Returns None for a name of one part, and for a title after "the" ("the
    Admiral"), which a fuller name of the same person ("Admiral Croft") beats.
    """
    if form.split()[0].lower() == "the":
        return None
    name = parse_name(form.split())
    if name is None or len(name.parts) < 2:
        return None
    return "titled" if name.honorific else "plain"


class _Forest:
    """Union-find over keys that also sums each tree's gender votes and counts.

    ``prior`` contains votes from given names (``GIVEN_NAME_GENDER``), which decide
    a tree's gender only when the text gives it no votes.
    """

    def __init__(self) -> None:
        self.parent: dict[Key, Key] = {}
        self.votes: dict[Key, Counter[str]] = {}
        self.prior: dict[Key, Counter[str]] = {}
        self.count: Counter[Key] = Counter()

    def add(self, key: Key, votes: Counter[str]) -> None:
        if key not in self.parent:
            self.parent[key] = key
            self.votes[key] = Counter()
            self.prior[key] = Counter()
            given_gender = (
                GIVEN_NAME_GENDER.get(key[1]) if key[0] != "surname" else None
            )
            if given_gender is not None:
                self.prior[key][given_gender] += 1
        root = self.find(key)
        self.votes[root].update(votes)
        self.count[root] += 1

    def find(self, key: Key) -> Key:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, keep: Key, other: Key) -> None:
        keep, other = self.find(keep), self.find(other)
        if keep == other:
            return
        self.parent[other] = keep
        self.votes[keep].update(self.votes.pop(other))
        self.prior[keep].update(self.prior.pop(other))
        self.count[keep] += self.count.pop(other)

    def gender(self, key: Key) -> str | None:
        root = self.find(key)
        if sum(self.votes[root].values()):
            return gender_argmax(self.votes[root])
        return gender_argmax(self.prior[root])


def cluster_names(
    names: Sequence[PersonName],
    votes: Sequence[Counter[str]],
    sentences: Sequence[int | None] | None = None,
) -> list[int]:
    """Return a cluster number for each name, numbered by first appearance.

    Args:
        names: the parsed names, in text order.
        votes: for each name, the gender labels of the pronouns that refer to it
            (see ``runner.analysis.pronouns``). Honorific votes are added here.
        sentences: for each name, the id of its sentence, or None to leave the
            name out of the check that keeps two names apart when they share
            sentences (``MIN_SHARED_SENTENCES``).
    """
    return _NameClusterer(names, votes, sentences).run()


# "Mr. Vincy" does not join "Fred Vincy" when at least this many sentences of
# narration name both, and they are at least this share of the sentences that
# name the less named of the two. The narration sets a father beside his son
# more often than it names one person twice in two forms. Counts in
# narration: Mr. Vincy beside Fred in 10 of 85 sentences (Middlemarch), Mr.
# Peggotty beside Ham in 23 of 106 (David Copperfield), Miss Bennet beside
# Elizabeth in 6 of 38 (Pride and Prejudice), but also Miss Woodhouse beside
# Emma in 4 of 40 (Emma), so the margin is narrow.
MIN_SHARED_SENTENCES = 5
MIN_SHARED_SHARE = 0.1
# The share of the gendered pronoun votes of a bare surname's uses that
# decides its gender; below it, a man's name is assumed. David Copperfield's
# nurse "Peggotty" has 144 "she" against 59 "he".
BARE_SURNAME_GENDER_SHARE = 2 / 3
# Of several full names that fit a title and surname, one named this many
# times as often as each other one takes it.
DOMINANT_SHARE = 10
# These mark a younger man whom "Mr." and the surname alone do not name (see
# ``_NameClusterer._younger_man``). The narration writes his full name after
# "Mr." at least MIN_MISTER_FULL_NAMES times, and at least MISTER_FULL_SHARE
# times as often as it writes his bare given name. The whole book uses that
# given name at least MIN_BARE_GIVEN_NAMES times.
MIN_MISTER_FULL_NAMES = 5
MIN_BARE_GIVEN_NAMES = 10
MISTER_FULL_SHARE = 0.5


# A surname written as an initial: "Mr. E.".
_INITIAL = re.compile(r"[a-z]\.")


class _NameClusterer:
    def __init__(
        self,
        names: Sequence[PersonName],
        votes: Sequence[Counter[str]],
        sentences: Sequence[int | None] | None,
    ) -> None:
        self.names = names
        self.sentences = sentences
        # The sentences in which each key's names occur.
        self.key_sentences: dict[Key, set[int]] = {}
        self.votes = [
            self._with_honorific(name, vote) for name, vote in zip(names, votes)
        ]
        self.forest = _Forest()
        self.keys: list[Key | None] = [None] * len(names)
        # How many full-name mentions use a word as given name or as surname.
        self.given_names: Counter[str] = Counter()
        self.full_surnames: Counter[str] = Counter()
        self.married_full: set[Key] = set()
        # Full names written after a rank ("Sir", "Lady"). Novels call a knight,
        # baronet or peer by that title, so a "Mr." of his surname is someone
        # else, and a bare given name ("Catherine") names another person too.
        self.titled_full: set[Key] = set()
        # The honorifics written before each full name.
        self.full_honorifics: dict[Key, set[str]] = {}
        # Surnames the book writes after "Mr.": a "Dr." or "Captain" of such a
        # surname is someone else (see ``_surname_fits``).
        self.mister_surnames: set[str] = set()
        # Given-name keys written in a familiar form at least once ("Harry").
        self.familiar: set[Key] = set()
        # How often the narration writes each full name after "Mr." ("Mr. John
        # Knightley"). Speakers and letters have their own formal habits: Mr.
        # Micawber writes "Mr. Thomas Traddles" for the Traddles that the
        # narration calls "Mr. Traddles".
        self.mister_full: Counter[Key] = Counter()
        # How often the narration writes the names of each key.
        self.narrated: Counter[Key] = Counter()

    @staticmethod
    def _with_honorific(name: PersonName, votes: Counter[str]) -> Counter[str]:
        combined = Counter(votes)
        gender = honorific_gender(name.honorific) if name.honorific else None
        if gender is not None:
            combined[gender] += 1
        return combined

    def run(self) -> list[int]:
        self._key_full_names()
        self._key_honorific_names()
        self._key_bare_names()
        self._merge_surnames()
        self._merge_initials()
        self._merge_given_names()
        roots = self._resolve_all()
        numbering: dict[Key, int] = {}
        return [numbering.setdefault(root, len(numbering)) for root in roots]

    def _key(self, i: int, key: Key) -> None:
        self.keys[i] = key
        self.forest.add(key, self.votes[i])
        sentence = self.sentences[i] if self.sentences is not None else None
        if sentence is not None:
            self.key_sentences.setdefault(key, set()).add(sentence)
            self.narrated[key] += 1

    def _named_together(self, root: Key, key: Key) -> bool:
        """Return True when names of ``root`` and of ``key`` share sentences.

        The bare given names of the root's full names count as the root's
        already, because they join it only after the surnames do.
        """
        key_root = self.forest.find(key)
        own: set[int] = set()
        theirs: set[int] = set()
        given_names = set()
        for member, sentences in self.key_sentences.items():
            member_root = self.forest.find(member)
            if member_root == key_root:
                own.update(sentences)
            elif member_root == root:
                theirs.update(sentences)
                if member[0] == "full":
                    given_names.add(("given", member[1]))
        for given in given_names:
            if given in self.key_sentences and self.forest.find(given) != key_root:
                theirs.update(self.key_sentences[given])
        shared = len(own & theirs)
        fewer = min(len(own), len(theirs))
        return shared >= MIN_SHARED_SENTENCES and shared >= MIN_SHARED_SHARE * fewer

    def _key_full_names(self) -> None:
        for i, name in enumerate(self.names):
            if len(name.parts) < 2:
                continue
            given, surname = _given_and_surname(name.parts)
            married = name.honorific in MARRIED_FEMALE_HONORIFICS
            if married and GIVEN_NAME_GENDER.get(given) == HE:
                # "Mrs. John Knightley" is Mr. John Knightley's wife, not him.
                given = "mrs " + given
            else:
                self.given_names[given] += 1
            key = ("full", given, surname)
            self.full_surnames[surname] += 1
            if married:
                self.married_full.add(key)
            if name.honorific in RANK_HONORIFICS:
                self.titled_full.add(key)
            if name.honorific is not None:
                self.full_honorifics.setdefault(key, set()).add(name.honorific)
            if name.honorific in ("mr", "mister"):
                self.mister_surnames.add(surname)
                if self.sentences is not None and self.sentences[i] is not None:
                    self.mister_full[key] += 1
            self._key(i, key)

    def _key_honorific_names(self) -> None:
        for i, name in enumerate(self.names):
            if len(name.parts) != 1 or name.honorific is None:
                continue
            word = name.parts[0]
            if name.honorific in _SAINTS:
                # "St. George" is the saint, not the George of a full name.
                self._key(i, ("saint", canonical_given_name(word)))
            elif self._honorific_takes_given_name(name.honorific, word):
                kind = "titled" if name.honorific in RANK_HONORIFICS else "given"
                self._key(i, (kind, canonical_given_name(word)))
            else:
                if name.honorific in ("mr", "mister"):
                    self.mister_surnames.add(word.lower())
                self._key(i, ("surname", _surname_class(name.honorific), word.lower()))

    def _honorific_takes_given_name(self, honorific: str, word: str) -> bool:
        """Decide "Lady Catherine" (given name) against "Lady Lucas" (surname).

        The book's full names decide, by how often the word is a given name or a
        surname in them. A word in no full name follows the honorific's usual use.
        """
        if honorific not in GIVEN_NAME_HONORIFICS:
            return False
        as_given = self.given_names[canonical_given_name(word)]
        as_surname = self.full_surnames[word.lower()]
        if as_given or as_surname:
            return as_given >= as_surname
        return honorific in GIVEN_NAME_DEFAULT

    def _key_bare_names(self) -> None:
        surnames = Counter(self.full_surnames)
        for key in self._keys_of("surname"):
            surnames[key[2]] += self.forest.count[self.forest.find(key)]
        for i, name in enumerate(self.names):
            if len(name.parts) != 1 or name.honorific is not None:
                continue
            word = name.parts[0]
            given = canonical_given_name(word)
            as_surname = surnames[word.lower()] > self.given_names[given]
            if as_surname and not self._mans_name_after_womens_titles(
                word.lower(), given
            ):
                continue  # a bare surname, resolved per mention in _resolve_all
            if given != word.lower():
                self.familiar.add(("given", given))
            self._key(i, ("given", given))

    def _mans_name_after_womens_titles(self, word: str, given: str) -> bool:
        """Return True when a man's given name ``word`` follows only women's titles.

        In Great Expectations "Mrs. Joe" is Joe's wife, called by his given
        name: a man's given name written only after women's titles stays his.
        """
        # Only a man's: women's given names are common surnames ("Mr. Rose").
        if GIVEN_NAME_GENDER.get(given) != HE or self.full_surnames[word]:
            return False
        classes = {key[1] for key in self._keys_of("surname") if key[2] == word}
        return bool(classes) and classes <= _WOMENS_CLASSES

    def _keys_of(self, kind: str) -> list[Key]:
        return [key for key in self.forest.parent if key[0] == kind]

    def _full_roots(self, position: int, value: str) -> list[Key]:
        roots = {
            self.forest.find(key)
            for key in self._keys_of("full")
            if key[position] == value
        }
        return sorted(roots)

    def _merge_surnames(self) -> None:
        order = {"mister": 0, "male": 0, "unmarried": 2, "married": 3}
        surname_keys = sorted(
            self._keys_of("surname"), key=lambda key: (order.get(key[1], 1), key)
        )
        for key in surname_keys:
            candidates = [
                root
                for root in self._full_roots(2, key[2])
                if self._surname_fits(key, root) and not self._named_together(root, key)
            ]
            if len(candidates) > 1:
                # Several full names fit; one written with the same honorific
                # ("Mr. Archibald Craven" for "Mr. Craven") wins, or else one
                # whose gender is known to match.
                same = [root for root in candidates if self._written_with(root, key)]
                wanted = self.forest.gender(key)
                candidates = same or [
                    root for root in candidates if self.forest.gender(root) == wanted
                ]
                candidates = self._dominant(candidates)
            if len(candidates) == 1:
                self.forest.union(candidates[0], key)

    def _merge_initials(self) -> None:
        """Join a title and an initial to the one name of that title it can stand for.

        Emma's Mrs. Elton says "Mr. E." for her husband and "Mr. K." for Mr.
        Knightley: each is the only "Mr." whose surname starts with that letter.
        With two such names ("Mrs. Suckling" and "Mrs. Smallridge" for "Mrs.
        S.") the initial stays a name of its own.
        """
        surname_keys = self._keys_of("surname")
        for key in surname_keys:
            if not _INITIAL.fullmatch(key[2]):
                continue
            fitting = {
                other
                for other in surname_keys
                if other[1] == key[1]
                and not _INITIAL.fullmatch(other[2])
                and other[2].startswith(key[2][0])
            }
            # A family's plural ("the Mr. Eltons") is no other man.
            fitting = {
                other
                for other in fitting
                if (other[0], other[1], other[2].removesuffix("s")) not in fitting
                or not other[2].endswith("s")
            }
            roots = {self.forest.find(other) for other in fitting}
            if len(roots) == 1:
                self.forest.union(roots.pop(), key)

    def _dominant(self, roots: list[Key]) -> list[Key]:
        """Return the one root named far more often than the others, or all.

        Middlemarch names Will Ladislaw hundreds of times and his grandfather
        Orlando Ladislaw once, so "Mr. Ladislaw" is Will.
        """
        if len(roots) < 2:
            return roots
        ranked = sorted(roots, key=lambda root: -self.forest.count[root])
        first, second = (self.forest.count[root] for root in ranked[:2])
        return ranked[:1] if first >= DOMINANT_SHARE * second else roots

    def _written_with(self, root: Key, key: Key) -> bool:
        """Return True when a full name of ``root`` has the honorific of ``key``."""
        return self._contains_any(
            root,
            (
                full
                for full, honorifics in self.full_honorifics.items()
                if any(_surname_class(honorific) == key[1] for honorific in honorifics)
            ),
        )

    def _contains_any(self, root: Key, keys: Iterable[Key]) -> bool:
        """Return True when any of ``keys`` belongs to the cluster of ``root``."""
        return any(self.forest.find(key) == root for key in keys)

    def _surname_fits(self, key: Key, root: Key) -> bool:
        gender = self.forest.gender(root)
        if key[1] == "mister":
            return (
                gender != SHE
                and not self._contains_any(root, self.titled_full)
                and not self._younger_man(root)
            )
        if key[1] == "male":
            return gender != SHE
        if key[1] == "unmarried":
            return gender != HE
        if key[1] == "married":
            return self._contains_any(root, self.married_full)
        if key[2] in self.mister_surnames and not self._written_with(root, key):
            # A book that writes both "Mr. Craven" and "Dr. Craven" means two
            # men, whom the narration keeps apart by the title. The doctor
            # joins only a full name written with "Dr.".
            return False
        own = self.forest.gender(key)
        return own is None or gender is None or own == gender

    def _younger_man(self, root: Key) -> bool:
        """Return True when the narration keeps ``root`` apart from "Mr. Surname".

        A narration that keeps writing "Mr. John Knightley" for a man the book
        also calls "John" keeps the bare "Mr. Knightley" for the head of the
        family, his elder brother. Counts in Emma's narration: "Mr. John
        Knightley" 22 times and "John" 6 (29 in the whole book); "Mr. Frank
        Churchill" 16 and "Frank" 30 (57), whose uncle is "Mr. Churchill".
        Other uses are no such sign. Mr. Micawber's speeches and letters write
        "Mr. Thomas Traddles" for David Copperfield's "Mr. Traddles".
        Middlemarch's "Mr. Borthrop Trumbull" (13 times) has no bare
        "Borthrop", and David Copperfield's "Mr. Jack Maldon" (25 times, also
        "Mr. Maldon") only 6 bare "Jack" or "John", for him and others.
        """
        for full, count in self.mister_full.items():
            if count < MIN_MISTER_FULL_NAMES or self.forest.find(full) != root:
                continue
            given_name = ("given", full[1])
            if given_name in self.forest.parent:
                bare = self.forest.count[given_name]
            else:
                bare = 0
            narrated = self.narrated[given_name]
            if bare >= MIN_BARE_GIVEN_NAMES and count >= MISTER_FULL_SHARE * narrated:
                return True
        return False

    def _merge_given_names(self) -> None:
        """Join each given name to a full name with that given name.

        "Lady Catherine" joins a full name written with a rank ("Lady Catherine
        de Bourgh") where there is one. A bare "Catherine" joins only a full name
        never written with a rank, but a familiar form does: friends call Lord
        Henry Wotton "Harry".
        """
        titled_roots = {self.forest.find(key) for key in self.titled_full}
        for key in self._keys_of("saint"):
            # Only a full name written after "St." takes it: "St. John" is
            # St. John Rivers in Jane Eyre.
            saints = {
                self.forest.find(full)
                for full, honorifics in self.full_honorifics.items()
                if full[1] == key[1] and honorifics & _SAINTS
            }
            if len(saints) == 1:
                self.forest.union(saints.pop(), key)
        for key in sorted(self._keys_of("given") + self._keys_of("titled")):
            own = self.forest.gender(key)
            candidates = [
                root
                for root in self._full_roots(1, key[1])
                if own is None or self.forest.gender(root) in (None, own)
            ]
            if key[0] == "titled":
                # "Sir William" still joins "William Lucas" written without "Sir".
                ranked = [root for root in candidates if root in titled_roots]
                candidates = ranked or candidates
            elif key not in self.familiar:
                candidates = [root for root in candidates if root not in titled_roots]
            if candidates:
                # NOTE: all bare uses of a given name join one full name, so two
                # people who share it ("Mary" Bennet and "Mary King") merge.
                best = max(candidates, key=lambda root: self.forest.count[root])
                self.forest.union(best, key)

    def _resolve_all(self) -> list[Key]:
        """Return each name's root; the bare surnames go by their summed gender.

        All bare uses of a surname go to one root, chosen by the gender that
        the pronouns of all of them give. One mention's pronoun is often
        someone else's ("Dorothea had seen Lydgate. She ..."), so one use alone
        would hand "Lydgate" to Mrs. Lydgate. In David Copperfield the bare
        "Peggotty" takes "she", so it is his nurse.
        """
        # Every entry is replaced below; the placeholder only fixes the length.
        roots: list[Key] = [("unresolved",)] * len(self.names)
        bare: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            if key is None:
                bare.setdefault(self.names[i].parts[0].lower(), []).append(i)
            else:
                roots[i] = self.forest.find(key)
        for surname, indices in bare.items():
            votes: Counter[str] = Counter()
            for i in indices:
                votes.update(self.votes[i])
            root = self._bare_surname_root(surname, votes)
            for i in indices:
                roots[i] = root
        return roots

    def _bare_surname_root(self, surname: str, votes: Counter[str]) -> Key:
        """Return the root that a bare surname with these gender votes joins.

        The largest root of that gender, else the largest of unknown gender,
        but a man's bare surname goes to the "Mr." of that surname first.
        Without votes, a man's: novels call men by the bare surname ("Bingley")
        and women by title or given name. When every root with the surname is
        of the other gender ("Mrs. Lydgate" for "Lydgate" with "he"), the bare
        surname is a character of its own.
        """
        wanted = gender_argmax(votes)
        gendered = votes[HE] + votes[SHE]
        if wanted is not None and votes[wanted] < BARE_SURNAME_GENDER_SHARE * gendered:
            # "Barkis" with 3 "she" and 2 "he": too close to take from a man.
            wanted = None
        ranked = self._surname_roots(surname)
        # A wife is "Mrs. Barkis", never "Barkis": pronouns near "Barkis is
        # willin'" that are Peggotty's must not give her husband's name to her.
        ranked = [root for root in ranked if not self._married_only(root)] or ranked
        if wanted != SHE and ("surname", "mister", surname) in self.forest.parent:
            # "Vincy" alone is Mr. Vincy, the head of the family, rather than
            # his son Fred Vincy, who is named more often.
            mister = self.forest.find(("surname", "mister", surname))
            ranked = [mister] + [root for root in ranked if root != mister]
        if wanted is None:
            fitting = [root for root in ranked if self.forest.gender(root) != SHE]
            return (fitting or ranked)[0]
        genders = [self.forest.gender(root) for root in ranked]
        for accepted in (wanted, None):
            for root, gender in zip(ranked, genders):
                if gender == accepted:
                    return root
        own = ("surname", "bare", surname)
        self.forest.add(own, votes)
        return own

    def _married_only(self, root: Key) -> bool:
        """Return True when every name of ``root`` has a married woman's title."""
        members = [key for key in self.forest.parent if self.forest.find(key) == root]
        return all(
            key in self.married_full or (key[0] == "surname" and key[1] == "married")
            for key in members
        )

    def _surname_roots(self, surname: str) -> list[Key]:
        """Return the roots with a full or honorific name of ``surname``, largest first."""
        candidates = {
            self.forest.find(other)
            for other in self.forest.parent
            if other[0] in ("full", "surname") and other[-1] == surname
        }
        return sorted(candidates, key=lambda root: (-self.forest.count[root], root))