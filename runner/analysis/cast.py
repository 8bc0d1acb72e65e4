"""Build the characters of a book and attribute its quotes to them.

The steps, each in its own module:

0. Type PER the names that start with a personal title, retype one-word
   "names" that start a place name of the book or mostly follow "at" or "in"
   (``characters``), and add a
   mention for each first-person pronoun outside quotes (``pronouns``). Those
   mentions form one character, the narrator.
1. Link pronouns to names and person noun phrases, knowing genders only from
   honorifics and nouns (``pronouns``).
2. Cluster the names, using those links as per-mention gender evidence
   (``characters``).
3. Link the pronouns again, now knowing each cluster's gender, and give every
   pronoun its antecedent's character.
4. Find each quote's speaking mention (``speakers``) and turn it into a
   character. A pronoun speaks for the character it refers to. When it refers to
   a noun phrase without a character, that noun phrase speaks. When it refers
   to nothing, it speaks for the most recent character of its gender. A speaking
   noun phrase with no name ("said her uncle") becomes a character of its own,
   which other mentions of the same noun nearby join (``nominals``). A relation
   one has only once ("her mother") is keyed by its possessor's character
   instead, so that it is one character across the whole book.

Noun phrases that restate a name ("Cecily Harlow was their only daughter") join
that name's character from step 2 on (``nominals``).

Gender votes: one per pronoun linked to a character's mention, one per gendered
honorific on its names, and one per gendered person noun ("uncle") among its
mentions.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections import Counter
from collections.abc import Sequence

from runner.analysis.characters import (
    PersonName,
    cluster_names,
    display_name,
    gender_argmax,
    parse_name,
    retype_located_names,
    retype_place_names,
    retype_shop_names,
    retype_titled_names,
    silent_article_names,
    without_articles,
)
from runner.analysis.entities import (
    NOM,
    PER,
    PRON,
    PROP,
    Mention,
    is_punctuation,
    without_format_characters,
)
from runner.analysis.geography import retype_geographic_names
from runner.analysis.lexicon import (
    HONORIFICS,
    MARRIED_FEMALE_HONORIFICS,
    ONE_PER_PERSON_NOUNS,
    PERSON_NOUNS,
    PRONOUN_GENDER,
    REFLEXIVE_PRONOUNS,
    THEY,
    honorific_gender,
    honorific_key,
    speech_verb_lemma,
)
from runner.analysis.nominals import (
    attach_unnamed,
    equate_nominals,
    nearest_anchor,
    retype_restated_places,
)
from runner.analysis.pronouns import (
    FIRST_PERSON_PRONOUNS,
    link_pronouns,
    narrator_mentions,
    quoted_first_person,
)
from runner.analysis.self_naming import self_naming_pronoun
from runner.analysis.speakers import CITATION, QuoteTokens, attribute_speakers
from runner.analysis.token_table import TokenTable
from runner.analysis.vessels import retype_ship_names, retype_ship_pronouns

# A cluster's gender steers the second pronoun pass only when at least this many
# votes agree at this share or more.
MIN_GENDER_EVIDENCE = 2
MIN_GENDER_SHARE = 0.7
# How far back (in tokens) a speaking pronoun looks for a character of its gender.
MAX_PRONOUN_SPEAKER_DISTANCE = 400
# The largest paragraph distance from a quote that addresses someone by name to a
# reply tagged by a pronoun without antecedent ("said he"). So one paragraph of
# narration may lie between.
MAX_REPLY_PARAGRAPHS = 2
# How many times as often as any other holder one person must carry a title
# for "the Doctor" alone to be that person.
DOMINANT_TITLE_SHARE = 10
# Replies by one speaker that make a name used only in speech that speaker's.
MIN_PET_NAME_REPLIES = 3
# The share of a pet name's uses inside quotes: Mrs. Garth is "Susan" to her
# husband, and the narration calls her so now and then.
PET_NAME_QUOTED_SHARE = 0.75
# Verb forms that report speech, for telling a character from a ship or an
# animal that the book names with an article ("said the Hatter").
_SAYING_WORDS = frozenset(
    "answered asked cried enquired exclaimed inquired muttered murmured observed "
    "quoth remarked replied said says shouted whispered".split()
)
# Relations that a first-person narrator has once, though people in general
# may have several: David Copperfield's "my aunt", Esther's "my guardian".
_NARRATOR_RELATION_NOUNS = frozenset(
    "aunt godfather godmother grandfather grandmother guardian uncle".split()
)
# The honorific of a parent's name: "her father" is "Mr. Bennet".
_PARENT_HONORIFICS = {
    "father": "mr", "papa": "mr", "mother": "mrs", "mama": "mrs", "mamma": "mrs",
}  # fmt: skip
# Honorifics of married women, whose surname is often not their father's.
_MARRIED_HONORIFICS = MARRIED_FEMALE_HONORIFICS | {"lady"}
# The name of the character made of first-person pronouns outside quotes.
NARRATOR_NAME = "the narrator"
# Forms of address that stand for a title: "your ladyship" for a Lady, who
# must be named at most MAX_ADDRESS_DISTANCE tokens before.
_ADDRESS_TITLES = {"ladyship": "lady", "lordship": "lord"}
MAX_ADDRESS_DISTANCE = 2000
# Speaker rules that read a speech tag around the quote, or a play's cue (see
# ``runner.analysis.speakers``); the others infer the speaker from context.
_TAG_RULES = frozenset({"after", "before", "cue"})
# Tag verbs that carry one person's speech on into a new paragraph ("he went
# on"), in the forms a tag uses.
_CARRYING_ON_VERBS = frozenset(
    {"continued", "continues", "added", "adds", "resumed", "resumes", "repeated"}
    | {"repeats", "persisted", "persists", "pursued", "pursues", "proceeded"}
    | {"proceeds", "went", "goes", "continuing", "adding", "going"}
)


# Words before and after a name that address its bearer ("my dear Jane,").
_VOCATIVE_BEFORE = frozenset({",", "dear", "oh", "o", "ah"})
_VOCATIVE_AFTER = frozenset({",", "!", "?", ".", ";"})


@dataclasses.dataclass(slots=True)
class Character:
    """A character: its mentions (indices into the mention list) and gender votes.

    ``votes`` contains all gender votes, and ``stated`` only those from honorifics
    and person nouns, which state a gender where a pronoun link only guesses one.
    """

    character_id: int
    mentions: list[int] = dataclasses.field(default_factory=list)
    votes: Counter[str] = dataclasses.field(default_factory=Counter)
    stated: Counter[str] = dataclasses.field(default_factory=Counter)
    name: str = ""
    names: Counter[str] = dataclasses.field(default_factory=Counter)
    narrator: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Speaker:
    """The character speaking a quote, and the token of the mention naming it.

    ``token`` is set whenever a speech tag or nearby clause names the speaker,
    even when that mention (a pronoun with no antecedent) gives no character.
    """

    character_id: int | None
    token: int | None


@dataclasses.dataclass(slots=True)
class Cast:
    """Characters sorted by mention count (ids are their ranks) and quote speakers."""

    characters: list[Character]
    speakers: list[Speaker]


def build_cast(
    mentions: list[Mention],
    quotes: Sequence[QuoteTokens],
    tokens: TokenTable,
    text: str,
) -> Cast:
    """Cluster characters, attribute ``quotes`` and set ``Mention.character``.

    ``mentions`` must be sorted by start token and have ``in_quote`` set; ``text``
    is the text the token offsets index. The list is changed in place: place
    names lose the PER category, and the narrator's first-person pronouns are
    added as PER PRON mentions, in start-token order.
    """
    def word_at(token: int) -> str:
        return token_text(text, tokens, token)

    def pos_at(token: int) -> str:
        return tokens.pos_of(token) if 0 <= token < len(tokens) else ""

    retype_titled_names(mentions)
    retype_ship_names(mentions, word_at)
    retype_geographic_names(mentions, word_at, tokens.dep_of)
    retype_place_names(mentions)
    retype_located_names(mentions, word_at, tokens.dep_of)
    retype_shop_names(mentions, word_at, pos_at)
    retype_restated_places(mentions, tokens, word_at)
    retype_ship_pronouns(mentions, tokens, word_at)
    narrator = narrator_mentions(tokens, word_at, quotes)
    if narrator:
        existing_spans = {(mention.start, mention.end) for mention in mentions}
        mentions.extend(m for m in narrator if (m.start, m.end) not in existing_spans)
        mentions.sort(key=lambda mention: (mention.start, mention.end))
    return _CastBuilder(mentions, quotes, tokens, text).build()


class _CastBuilder:
    def __init__(
        self,
        mentions: list[Mention],
        quotes: Sequence[QuoteTokens],
        tokens: TokenTable,
        text: str,
    ) -> None:
        self.mentions = mentions
        self.quotes = quotes
        self.tokens = tokens
        self.text = text
        self.equal = equate_nominals(mentions, tokens, self._word_at)
        self.characters: list[Character] = []
        self.starts = [mention.start for mention in mentions]
        # (start token, character) of noun phrases with a character, per noun.
        self.nominal_anchors: dict[str, list[tuple[int, int]]] = {}
        # {pronoun mention index: antecedent mention index}, from the second pass.
        self.links: dict[int, int] = {}
        # {quote start token: index of the name mention the quote addresses}.
        self.vocatives: dict[int, int] = {}
        # {quote index: index of its speaking mention}, from ``_attribute``.
        self.speaking_mentions: dict[int, int] = {}
        # Quotes whose speaker is a pronoun with no antecedent, so that its
        # character is only the most recent one of its gender.
        self.guessed: set[int] = set()
        # Quotes whose speaker a speech tag names with a name or a noun phrase
        # (see ``_TAG_RULES``). A pronoun in a tag only points at a character.
        self.tagged: set[int] = set()
        # Quotes followed by their source ("--PARADISE LOST."), spoken by no one.
        self.citations: set[int] = set()
        # Tag pronouns linked to the person their quote addresses by name.
        self.misread_tags: set[int] = set()
        # {(possessor character, noun): character} for "her mother" and the like.
        self.relatives: dict[tuple[int, str], int] = {}
        # For ``_named_parent``, built once the names have their characters.
        self.surnames_by_character: dict[int, set[str]] | None = None
        self.holders_by_name: dict[tuple[str, str], set[int]] = {}
        self.person_at_head = {
            mention.head: index
            for index, mention in enumerate(mentions)
            if mention.category == PER and mention.kind in (PROP, PRON)
        }

    def build(self) -> Cast:
        self.vocatives = self._find_vocatives()
        # A name that a quote addresses is no antecedent of "she" or "he"
        # ("Oh, I beg your pardon, Copperfield! She is a charming girl").
        addressed = frozenset(self.vocatives.values())
        first_links = link_pronouns(
            self.mentions, self.tokens, lambda m: m.gender, addressed
        )
        self._cluster_names(first_links)
        links = link_pronouns(
            self.mentions,
            self.tokens,
            self._steering_gender,
            addressed,
            prefer_characters=True,
        )
        self.links = links
        self._assign_pronouns(links)
        self._recount_votes(links)
        speakers = self._attribute()
        self._give_quotes_to_own_names(speakers)
        # Dropping first lets a turn whose "said he" was linked to the person
        # addressed go to the other participant. Dropping again catches a
        # filled turn that names its own speaker.
        self._drop_addressed_speakers(speakers)
        self._fill_alternating_turns(speakers)
        self._drop_addressed_speakers(speakers)
        self._join_pet_names(speakers)
        kept_apart = self._attach_relatives()
        attach_unnamed(self.mentions, kept_apart)
        self._assign_pronouns(links)
        self._align_speaking_pronouns(speakers)
        self._add_speaker_pronouns(speakers)
        # Only person mentions belong to characters. This guards the rules
        # that copy a character along a noun or a name against a mention the
        # tagger typed ORG or GPE ("TURKEY" in a text set in capitals).
        for mention in self.mentions:
            if mention.category != PER:
                mention.character = None
        self._recount_votes(links)
        cast = self._finish(speakers)
        self._sort_mentions(cast)
        return cast

    def _align_speaking_pronouns(self, speakers: list[Speaker]) -> None:
        """Give a speech tag's pronoun the character its quote was given.

        Later rules can give a quote another speaker than the one its "he"
        was linked to (""My name is Kenge," he said" after "Call me
        Ishmael"), and the tag's pronoun must then name the same person. Its
        link moves to a mention of that character, so that it votes for the
        speaker's gender.
        """
        first_mention: dict[int, int] = {}
        for index, mention in enumerate(self.mentions):
            if mention.character is not None and mention.kind != PRON:
                first_mention.setdefault(mention.character, index)
        for position, tag in self.speaking_mentions.items():
            mention = self.mentions[tag]
            character = speakers[position].character_id
            if mention.kind != PRON or character is None:
                continue
            if mention.character == character or mention.key not in PRONOUN_GENDER:
                continue
            mention.character = character
            target = first_mention.get(character)
            if target is None:
                self.links.pop(tag, None)
            else:
                self.links[tag] = target

    def _add_speaker_pronouns(self, speakers: list[Speaker]) -> None:
        """Make mentions of each quote's "I", "me", "my" and "myself" for its speaker.

        BookNLP 1.0.8 gives them to the speaker in its coreference step
        (``bert_coref_quote_pronouns``). In a quote without a speaker they are
        mentions without a character, as BookNLP lists every pronoun. The new
        mentions go to the end of the
        list, so that the indices in the pronoun links stay valid, and
        ``_sort_mentions`` puts them in place once the cast is final.
        """
        at_span = {(m.start, m.end): m for m in self.mentions}
        for quote, speaker in zip(self.quotes, speakers):
            for mention in quoted_first_person(self.tokens, self._word_at, quote):
                existing = at_span.get((mention.start, mention.end))
                if existing is None:
                    mention.character = speaker.character_id
                    self.mentions.append(mention)
                elif existing.kind == PRON and existing.character is None:
                    existing.character = speaker.character_id

    def _sort_mentions(self, cast: Cast) -> None:
        """Sort the mentions by start token and renumber the characters' lists."""
        order = sorted(
            range(len(self.mentions)),
            key=lambda i: (self.mentions[i].start, self.mentions[i].end),
        )
        new_index = {old: new for new, old in enumerate(order)}
        self.mentions[:] = [self.mentions[old] for old in order]
        for character in cast.characters:
            character.mentions = sorted(new_index[i] for i in character.mentions)

    # Names.

    def _cluster_names(self, links: dict[int, int]) -> None:
        # Only subject pronouns vote here: "he said" after a name is reliable
        # evidence, while a possessive or object pronoun often means someone else.
        votes = self._votes_per_mention(links, subjects_only=True)
        parsed: list[tuple[int, PersonName]] = []
        in_places = _names_inside_places(self.mentions)
        for index, mention in enumerate(self.mentions):
            if mention.kind == PROP and mention.category == PER:
                if index in in_places or self._after_indefinite(mention):
                    continue
                name = parse_name(mention.words)
                if name is not None:
                    parsed.append((index, name))
        words = {part for _index, name in parsed for part in name.parts}
        parsed = [(i, name) for i, name in parsed if not _is_family_name(name, words)]
        silent = silent_article_names(self.mentions, self._word_at, self._speaks)
        parsed = [
            (i, name)
            for i, name in parsed
            if name.honorific or without_articles(name.parts) not in silent
        ]
        exclaimed = self._exclaimed_names(parsed)
        parsed = [(i, name) for i, name in parsed if name.parts not in exclaimed]
        named = [index for index, _name in parsed]
        names = [name for _index, name in parsed]
        clusters = cluster_names(
            names,
            [votes.get(index, Counter()) for index in named],
            [self._narration_sentence(self.mentions[index]) for index in named],
        )
        for index, cluster in zip(named, clusters):
            while cluster >= len(self.characters):
                self.characters.append(Character(len(self.characters)))
            self.mentions[index].character = cluster
        self._join_lone_titles(parsed)
        self._join_office_holders()
        for nominal, restated in self.equal.items():
            self.mentions[nominal].character = self.mentions[restated].character
        self._add_narrator()
        self._join_narrator_names()
        self._recount_votes(links)

    def _exclaimed_names(
        self, parsed: list[tuple[int, PersonName]]
    ) -> set[tuple[str, ...]]:
        """Return the names that the book writes only as a whole quote.

        ""Fire!" shouted the man" makes "Fire" a name to the tagger. A
        person's name also appears in narration or inside longer speech, so
        a name whose every mention is all of its quote but the punctuation is
        an exclamation.
        """
        starts = [quote.start_token for quote in self.quotes]
        whole: dict[tuple[str, ...], bool] = {}
        for index, name in parsed:
            mention = self.mentions[index]
            position = bisect.bisect_right(starts, mention.start) - 1
            alone = False
            if position >= 0 and mention.end <= self.quotes[position].end_token:
                quote = self.quotes[position]
                others = itertools.chain(
                    range(quote.start_token, mention.start),
                    range(mention.end + 1, quote.end_token + 1),
                )
                alone = all(is_punctuation(self._word_at(token)) for token in others)
            whole[name.parts] = whole.get(name.parts, True) and alone
        return {parts for parts, always in whole.items() if always}

    def _narration_sentence(self, mention: Mention) -> int | None:
        """Return the sentence of a name in narration, or None in a quote.

        A quote often addresses someone whom its tag or the narration names
        in another form ("'Miss Garth,' said he, and Mary laughed"), so only
        names in narration show two people side by side.
        """
        return None if mention.in_quote else self.tokens.sentence[mention.start]

    def _after_indefinite(self, mention: Mention) -> bool:
        """Return True for a one-word name after "a" or "an" ("like a Rajah").

        Such a word is used as a common noun, not as a character's name.
        """
        if mention.start != mention.end:
            return False
        return self._word_at(mention.start - 1).lower() in ("a", "an")

    def _join_lone_titles(self, parsed: list[tuple[int, PersonName]]) -> None:
        """Give "the Admiral" to Admiral Croft when he is the book's only admiral.

        A lone title names the one person in the book who carries it. With two
        ("Captain Wentworth", "Captain Harville") it stays a character of its
        own, unless one of them carries it ``DOMINANT_TITLE_SHARE`` times as
        often as any other: David Copperfield's "the Doctor" is Doctor Strong
        (109 uses), not Doctor Johnson or Doctor Watts, named in passing.
        """
        holders: dict[str, Counter[int]] = {}
        lone: list[tuple[int, str]] = []
        for index, name in parsed:
            character = self.mentions[index].character
            title = _title_of(self.mentions[index].words)
            if not title or character is None:
                continue
            if name.honorific:
                holders.setdefault(title, Counter())[character] += 1
            else:
                lone.append((index, title))
        self._join_forms_of_address(parsed)
        for index, title in lone:
            owners = holders.get(title, Counter()).most_common(2)
            if len(owners) == 1 or (
                len(owners) == 2 and owners[0][1] >= DOMINANT_TITLE_SHARE * owners[1][1]
            ):
                self.mentions[index].character = owners[0][0]

    def _join_forms_of_address(self, parsed: list[tuple[int, PersonName]]) -> None:
        """Give "her ladyship" to the Lady named last, within ``MAX_ADDRESS_DISTANCE``.

        In Pride and Prejudice "your ladyship" is Lady Catherine where she was
        just named, and Lady Lucas where she was. Bleak House calls Lady
        Dedlock "my Lady" some 250 times, with the title capitalised.
        """
        named: dict[str, tuple[list[int], list[int]]] = {}
        for index, name in parsed:
            character = self.mentions[index].character
            if name.honorific in _ADDRESS_TITLES.values() and character is not None:
                starts, characters = named.setdefault(name.honorific, ([], []))
                starts.append(self.mentions[index].start)
                characters.append(character)
        for mention in self.mentions:
            if mention.kind != NOM or mention.character is not None:
                continue
            title = _ADDRESS_TITLES.get(mention.key or "") or _title_addressed(
                mention.words
            )
            if title not in named:
                continue
            starts, characters = named[title]
            last = bisect.bisect_left(starts, mention.start) - 1
            if last >= 0 and mention.start - starts[last] <= MAX_ADDRESS_DISTANCE:
                mention.character = characters[last]

    def _join_office_holders(self) -> None:
        """Give "the Vicar" to Mr. Farebrother when the book names him its holder.

        A capitalised office after "the" is a name of its own until a name
        is set next to it: "Mr. Farebrother, the Vicar", "the Vicar, Mr.
        Farebrother", "Mr. Farebrother was the Vicar". When all such names of
        one office are one character, every "the Vicar" is that character.
        "Mrs. Cadwallader the Rector's wife" names the Rector's wife, so the
        Rector is Mr. Cadwallader (``_husbands_of_offices``).
        """
        offices: dict[str, list[int]] = {}
        for index, mention in enumerate(self.mentions):
            office = self._office(mention)
            if office:
                offices.setdefault(office, []).append(index)
        husbands = self._husbands_of_offices()
        for office, indices in offices.items():
            holders = set(husbands.get(office, ()))
            for index in indices:
                holder = self._named_beside(self.mentions[index])
                if holder is not None:
                    holders.add(holder)
            if len(holders) == 1:
                self._join_to(holders.pop(), indices)

    def _husbands_of_offices(self) -> dict[str, set[int]]:
        """Return the characters that "Mrs. X, the Rector's wife" makes the Rector.

        The holder is the character of "Mr. X", when the book names him so.
        """
        misters: dict[str, int] = {}
        for mention in self.mentions:
            name = parse_name(mention.words) if mention.kind == PROP else None
            if name is None or mention.character is None or len(name.parts) != 1:
                continue
            if name.honorific in ("mr", "mister"):
                misters.setdefault(name.parts[0], mention.character)
        found: dict[str, set[int]] = {}
        for mention in self.mentions:
            office = self._office_word(mention)
            if not office or self._word_at(mention.end + 1) not in ("'s", "’s"):
                continue
            if self._word_at(mention.end + 2).lower() not in ("wife", "lady"):
                continue
            wife = self._name_before(mention.start - 1, (",",))
            name = parse_name(self.mentions[wife].words) if wife is not None else None
            if name is None or name.honorific not in MARRIED_FEMALE_HONORIFICS:
                continue
            husband = misters.get(name.parts[-1])
            if husband is not None:
                found.setdefault(office, set()).add(husband)
        return found

    def _office(self, mention: Mention) -> str:
        """Return the office of "the Vicar" (a one-word name), else "".

        "the Rector's wife" names someone else, so a possessive gives "".
        """
        if self._word_at(mention.end + 1) in ("'s", "’s", "'", "’"):
            return ""
        return self._office_word(mention)

    def _office_word(self, mention: Mention) -> str:
        """Return the office that a capitalised one-word name after "the" is, or ""."""
        if mention.kind != PROP or mention.category != PER or mention.character is None:
            return ""
        if mention.start != mention.end:
            return ""
        if not self._word_at(mention.start)[:1].isupper():
            return ""
        if self._word_at(mention.start - 1).lower() != "the":
            return ""
        office = self._word_at(mention.start).lower()
        return office if office in PERSON_NOUNS else ""

    def _named_beside(self, office: Mention) -> int | None:
        """Return the character of a name in apposition to "the" office, or None."""
        candidates = []
        before = self._name_before(office.start - 1, (",", "was", "is"))
        if before is not None:
            candidates.append(before)
        if self._word_at(office.end + 1) == ",":
            after = self._name_starting_at(office.end + 2)
            if after is not None:
                candidates.append(after)
        for index in candidates:
            character = self.mentions[index].character
            if character is not None and character != office.character:
                return character
        return None

    def _name_before(self, article: int, joiners: tuple[str, ...]) -> int | None:
        """Return the name mention that ends right before ``article``, or None.

        One of the ``joiners`` may stand between them ("Mr. Farebrother, the").
        """
        found = self._name_ending_at(article - 1)
        if found is None and self._word_at(article - 1) in joiners:
            found = self._name_ending_at(article - 2)
        return found

    def _name_ending_at(self, token: int) -> int | None:
        for index in self._names_at(token):
            if self.mentions[index].end == token:
                return index
        return None

    def _name_starting_at(self, token: int) -> int | None:
        for index in self._names_at(token):
            if self.mentions[index].start == token:
                return index
        return None

    def _names_at(self, token: int) -> list[int]:
        """Return the PER name mentions that contain ``token``."""
        position = bisect.bisect_right(self.starts, token)
        found = []
        for index in range(position - 1, max(position - 8, 0) - 1, -1):
            mention = self.mentions[index]
            is_name = mention.kind == PROP and mention.category == PER
            if is_name and mention.end >= token:
                found.append(index)
        return found

    def _speaks(self, mention: Mention) -> bool:
        """Return True when the mention is the subject of "said" or the like.

        Only verbs that report speech count: ships and whales also "return" and
        "continue". An inverted tag counts too ("asked the Hatter").
        """
        before = [self._word_at(mention.start - offset).lower() for offset in (1, 2)]
        if before[0] in _SAYING_WORDS or (
            before[0] in ("the", "a", "an") and before[1] in _SAYING_WORDS
        ):
            return True
        if self.tokens.dep_of(mention.head) not in ("nsubj", "nsubjpass"):
            return False
        verb = self._word_at(self.tokens.head[mention.head]).lower()
        return verb in _SAYING_WORDS

    def _add_narrator(self) -> None:
        """Give all first-person pronouns outside quotes one new character.

        Only one-word mentions count: a tagged span such as "my office" in "my
        office door" can take its type from "my", its only word whose head lies
        outside it, but it is a place, not the narrator.
        """
        narrator = None
        for mention in self.mentions:
            if (
                mention.kind == PRON
                and mention.start == mention.end
                and mention.key in FIRST_PERSON_PRONOUNS
                and not mention.in_quote
            ):
                if narrator is None:
                    narrator = self._new_character()
                    self.characters[narrator].narrator = True
                mention.character = narrator

    def _own_names(self, in_quotes: bool) -> list[int]:
        """Return the name mentions given as the narrator's or speaker's own.

        ``self_naming`` finds them: "Call me Ishmael", "My name is Kenge". With
        ``in_quotes`` the names in quotes, which a speaker gives; else those in
        narration, which the narrator gives.
        """
        return [
            index
            for index, mention in enumerate(self.mentions)
            if mention.kind == PROP
            and mention.category == PER
            and mention.character is not None
            and mention.in_quote == in_quotes
            and self_naming_pronoun(self._word_at, mention.start, mention.end)
            is not None
        ]

    def _narrator(self) -> int | None:
        for character in self.characters:
            if character.narrator:
                return character.character_id
        return None

    def _join_to(self, target: int, names: list[int]) -> None:
        """Give ``target`` every mention of the characters of the ``names``."""
        joined = {self.mentions[index].character for index in names} - {target}
        for mention in self.mentions:
            if mention.character in joined:
                mention.character = target

    def _join_narrator_names(self) -> None:
        """Make the names the narrator gives itself mentions of the narrator.

        "Call me Ishmael" and "they called me little Esther" name the "I" of
        the book, so every mention of Ishmael is the narrator's.
        """
        narrator = self._narrator()
        if narrator is not None:
            self._join_to(narrator, self._own_names(in_quotes=False))

    def _give_quotes_to_own_names(self, speakers: list[Speaker]) -> None:
        """Give a quote in which the speaker names themselves to that name.

        ""My name is Kenge," he said": the name outweighs a pronoun's antecedent
        or a noun phrase ("said the young man"); a tag with a name stays. When
        the narrator speaks ("said I"), the name joins the narrator instead.
        """
        starts = [quote.start_token for quote in self.quotes]
        narrator = self._narrator()
        for index in self._own_names(in_quotes=True):
            name = self.mentions[index]
            position = bisect.bisect_right(starts, name.start) - 1
            if position < 0 or name.end > self.quotes[position].end_token:
                continue
            speaker = speakers[position]
            tag = self.speaking_mentions.get(position)
            if tag is not None and self.mentions[tag].kind == PROP:
                continue
            if tag is not None and self.mentions[tag].key in FIRST_PERSON_PRONOUNS:
                if narrator is not None and speaker.character_id == narrator:
                    self._join_to(narrator, [index])
                continue
            token = speaker.token if speaker.token is not None else name.head
            # A tag between two halves of a speech ("My name is Kenge," he
            # said; "you may remember it") names the speaker of both.
            halves = {position}
            if tag is not None:
                halves.update(
                    other
                    for other, other_tag in self.speaking_mentions.items()
                    if other_tag == tag
                )
            for half in halves:
                speakers[half] = Speaker(name.character, token)
                self.guessed.discard(half)

    def _votes_per_mention(
        self, links: dict[int, int], subjects_only: bool
    ) -> dict[int, Counter[str]]:
        """Return each name's gender votes from pronouns and restating noun phrases."""
        votes: dict[int, Counter[str]] = {}
        for pronoun, antecedent in links.items():
            head = self.mentions[pronoun].head
            if subjects_only and self.tokens.dep_of(head) not in ("nsubj", "nsubjpass"):
                continue
            label = PRONOUN_GENDER[self.mentions[pronoun].key]
            target = self.equal.get(antecedent, antecedent)
            votes.setdefault(target, Counter())[label] += 1
        for nominal, name in self.equal.items():
            gender = self.mentions[nominal].gender
            if gender is not None:
                votes.setdefault(name, Counter())[gender] += 1
        return votes

    def _steering_gender(self, mention: Mention) -> str | None:
        if mention.gender is not None or mention.character is None:
            return mention.gender
        character = self.characters[mention.character]
        stated = gender_argmax(character.stated)
        if stated is not None:
            return stated
        votes = character.votes
        total = sum(votes.values())
        best = gender_argmax(votes)
        if best is None or total < MIN_GENDER_EVIDENCE:
            return None
        return best if votes[best] / total >= MIN_GENDER_SHARE else None

    def _recount_votes(self, links: dict[int, int]) -> None:
        for character in self.characters:
            character.mentions.clear()
            character.votes.clear()
            character.stated.clear()
        for index, mention in enumerate(self.mentions):
            if mention.character is None:
                continue
            character = self.characters[mention.character]
            character.mentions.append(index)
            if mention.kind == PROP:
                gender = honorific_gender(_title_of(mention.words))
                if gender is not None:
                    character.stated[gender] += 1
            elif mention.kind == NOM and mention.gender is not None:
                character.stated[mention.gender] += 1
        for character in self.characters:
            character.votes.update(character.stated)
        for pronoun, antecedent in links.items():
            owner = self.mentions[antecedent].character
            if owner is not None:
                label = PRONOUN_GENDER[self.mentions[pronoun].key]
                self.characters[owner].votes[label] += 1

    def _assign_pronouns(self, links: dict[int, int]) -> None:
        for pronoun, antecedent in links.items():
            self.mentions[pronoun].character = self.mentions[antecedent].character

    # Speakers.

    def _attribute(self) -> list[Speaker]:
        for mention in self.mentions:
            if mention.kind == NOM and mention.character is not None:
                anchors = self.nominal_anchors.setdefault(mention.key, [])
                anchors.append((mention.start, mention.character))
        speakers = []
        word = self._word_at
        found = attribute_speakers(
            self.quotes, self.mentions, self.tokens, word, self.text
        )
        self.tagged = {
            index
            for index, attribution in enumerate(found)
            if attribution.rule in _TAG_RULES
            and self.mentions[attribution.mention].kind != PRON
        }
        self.citations = {
            index
            for index, attribution in enumerate(found)
            if attribution.rule == CITATION
        }
        for index, attribution in enumerate(found):
            if attribution.mention is None:
                speakers.append(Speaker(None, None))
                continue
            self.speaking_mentions[index] = attribution.mention
            if self._unresolved_pronoun(attribution.mention):
                self.guessed.add(index)
            character = self._speaking_character(attribution.mention)
            speakers.append(Speaker(character, self.mentions[attribution.mention].head))
        return speakers

    def _unresolved_pronoun(self, index: int) -> bool:
        """Return True for a gendered pronoun with neither character nor antecedent."""
        mention = self.mentions[index]
        return (
            mention.kind == PRON
            and mention.key in PRONOUN_GENDER
            and mention.character is None
            and index not in self.links
        )

    def _fill_alternating_turns(self, speakers: list[Speaker]) -> None:
        """Attribute untagged turns of a two-person exchange.

        A run of consecutive paragraphs that open with quotes is a dialogue. A
        quote that opens its paragraph and has no speaker takes the other
        participant: the person the previous paragraph's quote addresses by name
        ("My dear Mr. Bennet, ..."), or else the most recent speaker of the run
        who is not the previous paragraph's speaker, as long as the run has had
        only two speakers. When the previous paragraph's speaker is unknown, it
        takes the speaker from two paragraphs back (A, ?, A). A quote tagged with a
        pronoun that gave no character ("he said") takes the participant only
        when the participant's gender fits the pronoun, and the pronoun then
        refers to that participant. A pronoun without antecedent that was given
        the most recent character of its gender yields to the person the
        previous quote addresses ("Bartleby! quick" and then "What is wanted?"
        said he).
        """
        by_paragraph: dict[int, int | None] = {}
        addressed: dict[int, int] = {}
        run: list[int] = []
        for index, quote in enumerate(self.quotes):
            if index in self.citations:
                # A cited passage is no turn of an exchange and takes none.
                by_paragraph[quote.last_paragraph] = None
                run = []
                continue
            paragraph = quote.first_paragraph
            opens = self._opens_paragraph(quote)
            if opens and paragraph - 1 not in by_paragraph:
                run = []
            filled, fits = None, self._fits_tag
            if speakers[index].character_id is None and opens:
                filled = addressed.get(paragraph - 1)
                if filled is None:
                    filled = self._other_participant(paragraph, by_paragraph, run)
            elif index in self.guessed and opens:
                filled = self._previous_listener(index, speakers)
            elif opens and self._repeats_turn(index, speakers[index], by_paragraph):
                filled = self._other_participant(paragraph, by_paragraph, run)
                fits = self._fits_pronoun
            # A turn never goes to the person it calls by name.
            if filled is not None and filled != self._vocative(quote):
                if fits(speakers[index], filled):
                    self._give_turn(index, filled, speakers)
            speaker = speakers[index].character_id
            # A paragraph of narration that ends in a quote ("and then said
            # earnestly, "My dear fellow ..."") opens the exchange too.
            by_paragraph[quote.last_paragraph] = speaker
            listener = self._vocative(quote)
            if listener is not None and speaker is not None and listener != speaker:
                addressed.setdefault(quote.last_paragraph, listener)
            if speaker is not None and (not run or run[-1] != speaker):
                run.append(speaker)

    def _drop_addressed_speakers(self, speakers: list[Speaker]) -> None:
        """Take a quote from the person it addresses by name, unless a tag names them.

        Speakers seldom call themselves by name in mid-speech, so "I do not
        ask whether you are musical, Mrs. Elton." is not Mrs. Elton's, even
        when she spoke last or was the subject of the narration before it. Nor is
        ""My dear Rick," said he" Rick's: the "he" was linked to the wrong man.
        A tag that names the speaker ("said Mrs. Elton") still wins, since a
        misread vocative is likelier than a tag naming the wrong person.
        """
        for index, quote in enumerate(self.quotes):
            character = speakers[index].character_id
            if character is None or index in self.tagged:
                continue
            if self._vocative(quote) == character and not self._to_oneself(index):
                token = speakers[index].token
                speakers[index] = Speaker(None, token)
                self.guessed.discard(index)
                if token is not None:
                    self.misread_tags.add(token)
                    found = self._nearest_other_person(quote, token, character)
                    if found is not None:
                        self._give_turn(index, found, speakers)

    def _to_oneself(self, index: int) -> bool:
        """Return True for a tag such as "he told himself" or "said she to herself".

        The reflexive must be the speech verb's object, right after it, or
        follow its "to": in ""Now, Tom," he said, raising himself in his
        chair" Tom is spoken to.
        """
        tag = self.speaking_mentions.get(index)
        if tag is None:
            return False
        verb = self.tokens.head[self.mentions[tag].head]
        if speech_verb_lemma(self._word_at(verb)) is None:
            return False
        for child in self.tokens.children(verb):
            dep = self.tokens.dep_of(child)
            # The parser may hang "drawing himself up" on the tag's verb.
            objects = [child] if dep == "dobj" and child == verb + 1 else []
            if dep == "prep" and self._word_at(child).lower() == "to":
                objects = list(self.tokens.children(child))
            if any(self._word_at(o).lower() in REFLEXIVE_PRONOUNS for o in objects):
                return True
        return False

    def _nearest_other_person(
        self, quote: QuoteTokens, token: int, addressed: int
    ) -> int | None:
        """Return the nearest other character a misread tag pronoun may stand for.

        In "He drew off his glove and felt in his vest pocket. "Have a troche,
        Kronborg," he said" the "he" is the man of the narration before, not
        Kronborg. Only narration of the quote's paragraph and the one before
        is searched, and the character's gender must fit the pronoun.
        """
        # NOTE: this repairs a link after the fact. Keeping the addressed
        # character out of ``link_pronouns`` for tag pronouns would fix the
        # link itself, and the pronoun's gender vote with it.
        at = self._pronoun_at(token)
        if at is None:
            return None
        pronoun = self.mentions[at]
        gender = PRONOUN_GENDER.get(pronoun.key or "")
        if gender is None:
            return None
        position = bisect.bisect_left(self.starts, quote.start_token)
        for mention in reversed(self.mentions[:position]):
            if self.tokens.paragraph_of(mention.start) < quote.first_paragraph - 1:
                return None
            character = mention.character
            if mention.in_quote or mention.category != PER or character is None:
                continue
            if character != addressed and self._known_gender(character) in (
                None, gender,
            ):
                pronoun.character = character
                return character
        return None

    def _join_pet_names(self, speakers: list[Speaker]) -> None:
        """Join a name used mostly in speech to the person who answers to it.

        In Middlemarch Celia calls Dorothea "Dodo" and Dorothea answers:
        ""Dodo, you are far too serious," said Celia." and then ""And you,
        Kitty," said Dorothea." A name used mostly in quotes, whose addressed
        quotes are answered in the next paragraph by one speaker at least
        ``MIN_PET_NAME_REPLIES`` times and more often than by all others, is
        that speaker's.
        """
        replies: dict[int, Counter[int]] = {}
        for index, quote in enumerate(self.quotes[:-1]):
            listener = self._vocative(quote)
            reply = self.quotes[index + 1]
            if listener is None or reply.first_paragraph != quote.last_paragraph + 1:
                continue
            answerer = speakers[index + 1].character_id
            if answerer is None or answerer in (listener, speakers[index].character_id):
                continue
            replies.setdefault(listener, Counter())[answerer] += 1
        spoken = self._names_mostly_in_quotes()
        for listener, tally in replies.items():
            answerer, count = tally.most_common(1)[0]
            enough = count >= MIN_PET_NAME_REPLIES and 2 * count > tally.total()
            if enough and listener in spoken:
                for mention in self.mentions:
                    if mention.character == listener:
                        mention.character = answerer

    def _names_mostly_in_quotes(self) -> set[int]:
        """Return the characters named in quotes at least ``PET_NAME_QUOTED_SHARE``
        of the time."""
        quoted: Counter[int] = Counter()
        named: Counter[int] = Counter()
        for mention in self.mentions:
            if mention.kind == PROP and mention.character is not None:
                named[mention.character] += 1
                quoted[mention.character] += mention.in_quote
        return {
            character
            for character, count in named.items()
            if quoted[character] >= PET_NAME_QUOTED_SHARE * count
        }

    def _previous_listener(self, index: int, speakers: list[Speaker]) -> int | None:
        """Return whom the quote before ``index`` addresses, if it is near enough.

        Narration of up to ``MAX_REPLY_PARAGRAPHS`` paragraphs may lie between
        ("I heard a slow scrape of his chair legs").
        """
        if index == 0:
            return None
        previous = self.quotes[index - 1]
        gap = self.quotes[index].first_paragraph - previous.last_paragraph
        if gap > MAX_REPLY_PARAGRAPHS:
            return None
        listener = self._vocative(previous)
        if listener is None or listener == speakers[index - 1].character_id:
            return None
        return listener

    def _vocative(self, quote: QuoteTokens) -> int | None:
        """Return the character a quote addresses by name, if any."""
        index = self.vocatives.get(quote.start_token)
        return None if index is None else self.mentions[index].character

    def _find_vocatives(self) -> dict[int, int]:
        """Map each quote's first token to the name mention it addresses.

        A name is taken as addressed when it opens the quote or follows a comma
        or "dear", and a comma or a closing stop follows it ("Mr. Bennet, how
        can you", "my dear Mr. Bennet,", "Thank you, Hill.").
        """
        found = {}
        for quote in self.quotes:
            position = bisect.bisect_left(self.starts, quote.start_token)
            for index in range(position, len(self.mentions)):
                mention = self.mentions[index]
                if mention.start > quote.end_token:
                    break
                if mention.kind != PROP or mention.category != PER:
                    continue
                if mention.end >= quote.end_token:
                    continue
                before = self._word_at(mention.start - 1).lower()
                after = self._word_at(mention.end + 1)
                opens = mention.start - 1 <= quote.start_token
                if (opens or before in _VOCATIVE_BEFORE) and after in _VOCATIVE_AFTER:
                    found[quote.start_token] = index
                    break
        return found

    @staticmethod
    def _other_participant(
        paragraph: int, by_paragraph: dict[int, int | None], run: list[int]
    ) -> int | None:
        if paragraph - 1 not in by_paragraph:
            return None
        previous = by_paragraph[paragraph - 1]
        # With a third speaker in the exchange, whose turn comes next is a
        # guess: on LitBank's 80 documents, filling such turns gave 33 wrong
        # speakers against 19 right ones.
        if len(set(run)) > 2:
            return None
        if previous is None:
            return by_paragraph.get(paragraph - 2)
        for speaker in reversed(run):
            if speaker != previous:
                return speaker
        return None

    def _give_turn(self, index: int, character: int, speakers: list[Speaker]) -> None:
        """Give quote ``index`` to ``character``, and the later parts of its
        paragraph that its tag names too (""Sit down," he said. "You look
        tired."")."""
        token = speakers[index].token
        speakers[index] = Speaker(character, token)
        later = index + 1
        paragraph = self.quotes[index].last_paragraph
        while (
            token is not None
            and later < len(self.quotes)
            and self.quotes[later].first_paragraph == paragraph
            and speakers[later].token == token
        ):
            speakers[later] = Speaker(character, token)
            later += 1

    def _repeats_turn(
        self, index: int, speaker: Speaker, by_paragraph: dict[int, int | None]
    ) -> bool:
        """Return True for "he asked" linked to the previous paragraph's speaker.

        In ""At the club," said Watson." then ""Alone?" he asked." the "he" is
        linked to the nearest man, Watson, but a new paragraph of an exchange
        is the other person's turn. A tag that carries the speech on ("he
        went on", "she added") keeps the speaker.
        """
        if speaker.character_id is None or speaker.token is None:
            return False
        paragraph = self.quotes[index].first_paragraph
        if by_paragraph.get(paragraph - 1) != speaker.character_id:
            return False
        if index in self.tagged or self._pronoun_at(speaker.token) is None:
            return False
        if index - 1 not in self.tagged or not self._ends_with_tag(index - 1):
            return False
        verb = self.tokens.head[speaker.token]
        if self._word_at(verb).lower() in _CARRYING_ON_VERBS:
            return False
        # "he cried again" speaks once more.
        return not any(
            self._word_at(child).lower() == "again"
            for child in self.tokens.children(verb)
        )

    def _ends_with_tag(self, index: int) -> bool:
        """Return True when quote ``index``'s tag follows it and ends its paragraph.

        After ""Our mighty mother!" Buck Mulligan said. He turned abruptly his
        grey searching eyes" the narration goes on with the same man, and his
        next "he said" is his.
        """
        tag = self.speaking_mentions.get(index)
        if tag is None or self.mentions[tag].start <= self.quotes[index].end_token:
            return False
        last = self.quotes[index + 1].start_token - 1
        while last > 0 and self.tokens.pos_of(last) == "SPACE":
            last -= 1
        head = self.mentions[tag].head
        return self.tokens.sentence[last] == self.tokens.sentence[head]

    def _fits_pronoun(self, speaker: Speaker, character: int) -> bool:
        """Return whether a tag's pronoun may stand for ``character`` instead."""
        pronoun = self.mentions[self._pronoun_at(speaker.token)]
        if character == speaker.character_id or pronoun.key not in PRONOUN_GENDER:
            return False
        gender = self._known_gender(character)
        return gender in (None, PRONOUN_GENDER[pronoun.key])

    def _opens_paragraph(self, quote: QuoteTokens) -> bool:
        start = quote.start_token
        return (
            start == 0 or self.tokens.paragraph_of(start - 1) != quote.first_paragraph
        )

    def _fits_tag(self, speaker: Speaker, character: int) -> bool:
        """Return whether ``character`` may speak a quote tagged by ``speaker``.

        An untagged quote fits anyone. A pronoun tag fits a character whose
        gender is the pronoun's or unknown, and the pronoun then gets the
        character, so that its entity and the quote's speaker agree.
        """
        if speaker.token is None:
            return True
        index = self._pronoun_at(speaker.token)
        # A linked pronoun keeps its antecedent's character (None here),
        # unless that character is the one the quote addresses.
        if index is None:
            return False
        if index in self.links and speaker.token not in self.misread_tags:
            return False
        pronoun = self.mentions[index]
        if pronoun.key not in PRONOUN_GENDER:
            return False
        gender = self._known_gender(character)
        if gender not in (None, PRONOUN_GENDER[pronoun.key]):
            return False
        pronoun.character = character
        return True

    def _known_gender(self, character_id: int) -> str | None:
        """Return the character's gender from its votes, or else from its names.

        A character without pronoun or honorific votes may still carry a
        gendered given name ("Jane"), which rules out "he replied".
        """
        character = self.characters[character_id]
        gender = gender_argmax(character.votes)
        if gender is not None or sum(character.votes.values()):
            return gender
        named = {
            self.mentions[index].gender
            for index in character.mentions
            if self.mentions[index].kind == PROP
        }
        named.discard(None)
        return named.pop() if len(named) == 1 else None

    def _pronoun_at(self, token: int) -> int | None:
        """Return the index of the one-token pronoun mention at ``token``."""
        index = bisect.bisect_left(self.starts, token)
        while index < len(self.mentions) and self.mentions[index].start == token:
            mention = self.mentions[index]
            if mention.kind == PRON and mention.end == token:
                return index
            index += 1
        return None

    def _speaking_character(self, index: int) -> int | None:
        """Return the character that the speaking mention at ``index`` stands for.

        Also sets the mention's character when it had none, so that its entity
        and the quote's speaker agree.
        """
        mention = self.mentions[index]
        if mention.kind == PRON:
            if mention.character is not None or mention.key not in PRONOUN_GENDER:
                return mention.character
            antecedent = self.links.get(index)
            if antecedent is not None:
                target = self.mentions[antecedent]
                if target.kind == NOM and target.gender == PRONOUN_GENDER[mention.key]:
                    mention.character = self._speaking_character(antecedent)
                    return mention.character
                # A link to a noun phrase of unknown gender ("the cook") or to a
                # name without a character is too weak to name a speaker. It is
                # dropped, so that the pronoun keeps the character found below.
                del self.links[index]
            mention.character = self._recent_character(mention)
            return mention.character
        if mention.character is None and mention.kind == NOM:
            relation = self._relation(mention)
            anchors = self.nominal_anchors.setdefault(mention.key, [])
            if relation is not None:
                found = self.relatives.get(relation)
                if found is None:
                    found = self._named_parent(relation)
            else:
                found = nearest_anchor(anchors, mention.start)
            if found is None:
                found = self._new_character()
                if mention.gender is not None:
                    self.characters[found].votes[mention.gender] += 1
            mention.character = found
            bisect.insort(anchors, (mention.start, found))
            if relation is not None:
                self.relatives[relation] = found
        return mention.character

    def _relation(self, mention: Mention) -> tuple[int, str] | None:
        """Return (possessor character, noun) for "her mother", "Jane's husband".

        Only nouns of ``ONE_PER_PERSON_NOUNS`` with a possessor that has a
        character count, and for the narrator also ``_NARRATOR_RELATION_NOUNS``
        ("my aunt"); any other noun phrase gives None.
        """
        if mention.category != PER:
            return None
        narrators_only = mention.key in _NARRATOR_RELATION_NOUNS
        if mention.key not in ONE_PER_PERSON_NOUNS and not narrators_only:
            return None
        for child in self.tokens.children(mention.head):
            if self.tokens.dep_of(child) != "poss":
                continue
            possessor = self.person_at_head.get(child)
            if possessor is None:
                return None
            character = self.mentions[possessor].character
            if character is None:
                return None
            if narrators_only and not self.characters[character].narrator:
                return None
            return character, mention.key
        return None

    def _attach_relatives(self) -> set[int]:
        """Give "her mother" the character of a speaking "her mother" anywhere.

        Returns the indices of relations whose possessor's relative never speaks:
        they must not join the same noun nearby, which names another person's
        relative.
        """
        kept_apart = set()
        for index, mention in enumerate(self.mentions):
            if mention.kind != NOM or mention.character is not None:
                continue
            relation = self._relation(mention)
            if relation is None:
                continue
            mention.character = self.relatives.get(relation)
            if mention.character is None:
                mention.character = self._named_parent(relation)
            if mention.character is None:
                kept_apart.add(index)
        return kept_apart

    def _named_parent(self, relation: tuple[int, str]) -> int | None:
        """Return "Mr. Bennet" for Elizabeth Bennet's "her father", if he is one.

        A father is "Mr." and a mother "Mrs." of the surname the child bears
        unmarried (a full name, or "Miss" or "Master" and the surname), when
        exactly one other character has that name.
        """
        possessor, noun = relation
        honorific = _PARENT_HONORIFICS.get(noun)
        if honorific is None:
            return None
        if self.surnames_by_character is None:
            self._index_family_names()
        surnames = self.surnames_by_character.get(possessor, set())
        if len(surnames) != 1:
            return None
        holders = self.holders_by_name.get((honorific, next(iter(surnames))), set())
        holders = holders - {possessor}
        return next(iter(holders)) if len(holders) == 1 else None

    def _index_family_names(self) -> None:
        """Collect each character's unmarried surnames and who bears "Mr. X"."""
        self.surnames_by_character = {}
        self.holders_by_name = {}
        for mention in self.mentions:
            if mention.kind != PROP or mention.character is None:
                continue
            name = parse_name(mention.words)
            if name is None:
                continue
            if name.honorific in ("mr", "mrs") and len(name.parts) == 1:
                key = (name.honorific, name.parts[0].lower())
                self.holders_by_name.setdefault(key, set()).add(mention.character)
            if len(name.parts) >= 2 and name.honorific not in _MARRIED_HONORIFICS:
                surname = name.parts[-1].lower()
            elif len(name.parts) == 1 and name.honorific in ("miss", "master"):
                surname = name.parts[0].lower()
            else:
                continue
            self.surnames_by_character.setdefault(mention.character, set()).add(
                surname
            )

    def _recent_character(self, pronoun: Mention) -> int | None:
        """Return the most recent character of the pronoun's gender in narration.

        Looks back ``MAX_PRONOUN_SPEAKER_DISTANCE`` tokens, outside quotes, at
        names, noun phrases and pronouns of the same gender that have a character.
        An unnamed noun phrase of that gender ("an old man") found first becomes
        the speaker, as in "said the old man". A character of unknown gender is
        the fallback. The narrator never is.
        """
        wanted = PRONOUN_GENDER[pronoun.key]
        if wanted == THEY:
            return None
        fallback = None
        floor = pronoun.start - MAX_PRONOUN_SPEAKER_DISTANCE
        position = bisect.bisect_left(self.starts, pronoun.start)
        for index in range(position - 1, -1, -1):
            mention = self.mentions[index]
            if mention.start < floor:
                break
            if mention.in_quote:
                continue
            if mention.kind == PRON and PRONOUN_GENDER.get(mention.key) != wanted:
                continue
            if mention.character is None:
                if mention.kind == NOM and mention.gender == wanted:
                    return self._speaking_character(index)
                continue
            gender = self._known_gender(mention.character)
            if gender == wanted:
                return mention.character
            if gender is None and fallback is None:
                fallback = mention.character
        return fallback

    def _new_character(self) -> int:
        character = Character(len(self.characters))
        self.characters.append(character)
        return character.character_id

    # Output.

    def _finish(self, speakers: list[Speaker]) -> Cast:
        kept = [character for character in self.characters if character.mentions]
        kept.sort(key=lambda c: (-len(c.mentions), c.mentions[0]))
        new_id = {character.character_id: rank for rank, character in enumerate(kept)}
        for rank, character in enumerate(kept):
            character.character_id = rank
            character.names, nominal = self._names_of(character)
            if character.narrator:
                # A narrator who gives a name ("Call me Ishmael") goes by it.
                own_names = character.names if not nominal else Counter()
                texts = (self._mention_text(i) for i in character.mentions)
                character.names = Counter(texts)
                character.name = _choose_name(own_names, False) or NARRATOR_NAME
            else:
                character.name = _choose_name(self._display_forms(character), nominal)
        for mention in self.mentions:
            if mention.character is not None:
                mention.character = new_id.get(mention.character)
        renamed = [
            Speaker(new_id.get(s.character_id), s.token)
            if s.character_id is not None
            else s
            for s in speakers
        ]
        return Cast(kept, renamed)

    def _word_at(self, token: int) -> str:
        return token_text(self.text, self.tokens, token)

    def _mention_text(self, index: int) -> str:
        """Return the mention as the book writes it, with its spaces collapsed.

        Joining the words instead would put spaces before commas and
        apostrophes ("a neat , thin old man", "Lincoln 's Inn").
        """
        mention = self.mentions[index]
        start = self.tokens.start[mention.start]
        end = self.tokens.end[mention.end]
        return " ".join(without_format_characters(self.text[start:end]).split())

    def _display_forms(self, character: Character) -> Counter[str]:
        """Return the name forms to choose a display name from.

        Mr. Farebrother goes by his name, however often the book calls him
        "the Vicar".
        """
        offices = {
            _lower_article(self._mention_text(i))
            for i in character.mentions
            if self._office(self.mentions[i])
        }
        forms = Counter(
            {
                form: count
                for form, count in character.names.items()
                if form not in offices
            }
        )
        return forms or character.names

    def _names_of(self, character: Character) -> tuple[Counter[str], bool]:
        """Return the character's name forms, and True if they are noun phrases."""
        # "The Queen" opening a sentence is written "the Queen" in a name.
        proper = Counter(
            _lower_article(self._mention_text(i))
            for i in character.mentions
            if self.mentions[i].kind == PROP
        )
        if proper:
            return proper, False
        nominal = Counter(
            _lower_determiner(self._mention_text(i))
            for i in character.mentions
            if self.mentions[i].kind == NOM
        )
        return nominal, True


# The maximum number of tokens from a place name's start to a name nested in it.
_MAX_NAME_TOKENS = 20


def _names_inside_places(mentions: Sequence[Mention]) -> set[int]:
    """Return the indices of person names nested in a place's or group's name.

    "St. James" in "St. James's" and "Lincoln" in "Lincoln's Inn" name the
    place after someone who is no character of the book.
    """
    places = sorted(
        (mention.start, mention.end)
        for mention in mentions
        if mention.kind == PROP and mention.category != PER
    )
    starts = [start for start, _end in places]
    inside = set()
    for index, mention in enumerate(mentions):
        if mention.kind != PROP or mention.category != PER:
            continue
        # Names are short, so only places opening a few tokens before can hold it.
        low = bisect.bisect_left(starts, mention.start - _MAX_NAME_TOKENS)
        high = bisect.bisect_right(starts, mention.start)
        for start, end in places[low:high]:
            if mention.end <= end and (start, end) != (mention.start, mention.end):
                inside.add(index)
                break
    return inside


# Words that open a noun phrase and are capitalised only at a sentence start.
_DETERMINERS = frozenset(
    "a an another her his its my our that the their these this those your".split()
)


def _lower_article(name: str) -> str:
    """Return "the Queen" for "The Queen"; other names stay as written."""
    first, space, rest = name.partition(" ")
    return f"the {rest}" if first == "The" and space else name


def _lower_determiner(phrase: str) -> str:
    """Return "the old man" for "The old man", and "Jane's father" unchanged."""
    first, _space, rest = phrase.partition(" ")
    if first.lower() not in _DETERMINERS:
        return phrase
    return f"{first.lower()} {rest}" if rest else first.lower()


_ADDRESSING_POSSESSIVES = frozenset({"my", "your", "his", "her", "our"})


def _title_addressed(words: Sequence[str]) -> str:
    """Return "lady" for "my Lady" and "lord" for "his Lord", else ""."""
    if len(words) != 2 or words[0].lower() not in _ADDRESSING_POSSESSIVES:
        return ""
    return words[1].lower() if words[1] in ("Lady", "Lord") else ""


def _title_of(words: Sequence[str]) -> str:
    """Return the key of a name's title, or "" for a name without one.

    "Mrs. Bennet" gives "mrs", and "the Queen" gives "queen".
    """
    name = parse_name(words)
    if name is not None and name.honorific:
        return name.honorific
    # "the Queen" keeps its article, so parse_name finds no leading title.
    if len(words) == 2 and words[0].lower() == "the":
        key = honorific_key(words[1])
        return key if key in HONORIFICS else ""
    return ""


def token_text(text: str, tokens: TokenTable, token: int) -> str:
    """Return the text of a token id, or "" for an id outside the book."""
    if not 0 <= token < len(tokens):
        return ""
    return text[tokens.start[token] : tokens.end[token]]


# Titles that come before a family's plural name ("the Miss Bennets").
_FAMILY_TITLES = frozenset({"miss", "misses"})


def _is_family_name(name: PersonName, words: set[str]) -> bool:
    """Return True for a plural surname ("the Lucases", "Miss Bennets").

    Such a mention names a family, not one character, so it gets no character.
    A title other than "Miss" names one person: "Mrs. Edwards" is no family of
    Edwards, even in a book with an Edward in it.
    """
    if len(name.parts) != 1:
        return False
    if name.honorific is not None and name.honorific not in _FAMILY_TITLES:
        return False
    word = name.parts[0]
    if not word.endswith("s"):
        return False
    return word[:-1] in words or (word.endswith("es") and word[:-2] in words)


def _choose_name(forms: Counter[str], nominal: bool) -> str:
    """Name a character by its names, or by its commonest, shortest noun phrase."""
    if not forms:
        return ""
    if not nominal:
        return display_name(forms)
    return min(forms, key=lambda form: (-forms[form], len(form), form))
