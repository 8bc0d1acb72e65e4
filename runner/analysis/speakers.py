"""Find the mention that speaks each quote, from speech tags and context.

The rules, tried in this order for each quote:

0. ``cue``: for speech laid out as in a play, the person mention in its
   speaker's cue ("DUTCH SAILOR", ``script_dialogue``). No other rule applies
   to such speech.
1. ``after``: a speech tag right after the quote, in the same paragraph and the
   same sentence. Either a verb and its subject (``said Tunde``, ``demanded Mr.
   Okafor``, ``said the purser, a stout man named Oskar``), or a subject and any
   verb (``Tunde offered``, ``she called``).
2. ``before``: the subject of the nearest clause before the quote in the same
   paragraph, back to the previous quote (``Her sister Ingrid laughed. "He
   says..."``, ``Tunde said, "..."``), or the person right after a speech verb
   that opens the clause (``Said Alice, "..."``, ``Quoth he, "..."``), which the
   parser often reads as a name.
3. ``continuation``: the speaker of the previous quote in the same paragraph.
   It ranks above ``before`` when only the previous quote's own tag lies
   between the two (``"Well?" said Peleg when I came back; "what did ye
   see?"``).
4. ``beat``: an action beat, a subject and verb that open the next sentence
   (``"Then who?" Mr. Okafor looked at his daughter.``). It ranks below the
   others because such a sentence often turns to the listener.
5. ``preceding``: for a quote that opens its paragraph right after a paragraph
   of narration, the subject of that paragraph's last sentence (``She pounced
   at once.`` then ``"Tommy, you're stony!"``).

Within a subject phrase a name is preferred to a noun phrase, and a noun phrase
to a pronoun. Only mentions outside quotes can speak, and of the pronouns only
subject ones: "he", "she", "they" and the narrator's "I". The result is a
mention; the caller turns it into a character.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from runner.analysis.entities import NOM, PER, PRON, PROP, Mention
from runner.analysis.lexicon import NOMINATIVE_PRONOUNS, speech_verb_lemma
from runner.analysis.token_table import TokenTable

# How far from the quote a speech tag may start or end, in tokens.
MAX_TAG_AFTER = 15
MAX_CONTEXT_BEFORE = 40
_VERB_POS = frozenset({"VERB", "AUX"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
_KIND_RANK = {PROP: 0, NOM: 1, PRON: 2}
# Pronouns that can name a speaker ("he said", "said I"); possessive and object
# pronouns ("said her uncle") cannot.
_SPEAKING_PRONOUNS = NOMINATIVE_PRONOUNS | {"i"}
# Words of quantity whose "of" phrase names the speakers ("one of the
# strangers said").
_PARTITIVES = frozenset(
    "all any both each either few many most neither none one several some "
    "three two".split()
)
# Verbs whose inverted form names the listener, not the speaker ("Then told
# Tom the news", "Then asked Mary to leave").
_LISTENER_FIRST = frozenset({"tell", "ask", "beg", "urge", "warn", "call"})
# Words that mark a clause whose subject keeps quiet ("was silent", "did not reply").
_SILENT_WORDS = frozenset({"silent", "mute", "speechless"})
_SPEAKING_WORDS = frozenset(
    "answer answered reply replied respond responded say said speak spoke".split()
)
# Tokens that may end an inverted tag before its quote ("Said Alice, ").
_TAG_CLOSERS = frozenset({",", ":", "—", "–", "--"})
# Dashes that open the line giving a cited passage's source.
_CITATION_DASHES = frozenset({"--", "—", "―", "–"})
_QUOTE_MARKS = frozenset('"“”‘’\'«»„')
# Pronouns of a line that goes on with the story ("--Tom folded his arms.").
_STORY_WORDS = frozenset(
    "he him his she her hers i me my they them their we us our you your it".split()
)
# The rule name of a cited passage, which has no speaker.
CITATION = "citation"
# Words that open a clause of time ("when they returned").
_TIME_CONJUNCTIONS = frozenset(
    {"when", "after", "before", "until", "till", "while", "once", "since"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class QuoteTokens:
    """A quote's first and last token (inclusive) and its paragraphs.

    ``cue`` contains the first and last token of the speaker's cue before
    speech laid out as in a play, else None.
    """

    start_token: int
    end_token: int
    first_paragraph: int
    last_paragraph: int
    cue: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Attribution:
    """The speaking mention of one quote and the rule that found it."""

    mention: int | None
    rule: str | None


def attribute_speakers(
    quotes: Sequence[QuoteTokens],
    mentions: Sequence[Mention],
    tokens: TokenTable,
    word: Callable[[int], str],
    text: str = "",
) -> list[Attribution]:
    """Return one ``Attribution`` per quote, in the order of ``quotes``.

    Args:
        quotes: the quotes in text order.
        mentions: all mentions sorted by start token, with ``in_quote`` set.
        tokens: the document's token table.
        word: returns the text of a token id.
        text: the text the token offsets index; without it no quote is read
            as a cited passage.
    """
    finder = _SpeakerFinder(quotes, mentions, tokens, word, text)
    return [finder.attribute(index) for index in range(len(quotes))]


class _SpeakerFinder:
    def __init__(
        self,
        quotes: Sequence[QuoteTokens],
        mentions: Sequence[Mention],
        tokens: TokenTable,
        word: Callable[[int], str],
        text: str,
    ) -> None:
        self.text = text
        self.quotes = quotes
        self.mentions = mentions
        self.tokens = tokens
        self.word = word
        self.by_head: dict[int, list[int]] = {}
        for index, mention in enumerate(mentions):
            if mention.category == PER and not mention.in_quote:
                self.by_head.setdefault(mention.head, []).append(index)
        self.results: list[Attribution] = []

    def attribute(self, index: int) -> Attribution:
        cue = self.quotes[index].cue
        if cue is not None:
            result = Attribution(self._cue_speaker(*cue), "cue")
            if result.mention is None:
                result = Attribution(None, None)
            self.results.append(result)
            return result
        if self._cites_source(index):
            result = Attribution(None, CITATION)
            self.results.append(result)
            return result
        after, attached = self._tag_after(index)
        candidates = [
            (after if attached else None, "after"),
            (self._split_by_tag(index), "continuation"),
            (self._tag_before(index), "before"),
            (self._continuation(index), "continuation"),
            (after, "beat"),
            (self._preceding_narration(index), "preceding"),
        ]
        result = Attribution(None, None)
        for found, rule in candidates:
            if found is not None:
                result = Attribution(found, rule)
                break
        self.results.append(result)
        return result

    def _cue_speaker(self, first: int, last: int) -> int | None:
        """Return the longest person mention inside a cue's tokens, if any."""
        found = [
            index
            for token in range(first, last + 1)
            for index in self.by_head.get(token, ())
            if first <= self.mentions[index].start and self.mentions[index].end <= last
        ]
        if not found:
            return None
        return max(found, key=lambda i: self.mentions[i].end - self.mentions[i].start)

    def _cites_source(self, index: int) -> bool:
        """Return True for a quote whose next line gives its source after a dash.

        Epigraphs and the extracts that open Moby-Dick are cited, not spoken:
        ""By art is created that great Leviathan ..."" then "--OPENING
        SENTENCE OF HOBBES'S LEVIATHAN." on a line of its own.
        """
        quote = self.quotes[index]
        token = quote.end_token + 1
        while token < len(self.tokens) and self.tokens.pos_of(token) == "SPACE":
            token += 1
        if token >= len(self.tokens) or self.word(token) not in _CITATION_DASHES:
            return False
        gap = self.text[self.tokens.end[quote.end_token] : self.tokens.start[token]]
        if self.tokens.paragraph_of(token) != quote.last_paragraph or "\n" not in gap:
            return False
        # A source names a work or an author: a line with a quote mark, a
        # pronoun or a speech verb ("--said Tom", "--And he sat down") is the
        # story going on.
        line_end = self.text.find("\n", self.tokens.start[token])
        line_end = len(self.text) if line_end < 0 else line_end
        while token < len(self.tokens) and self.tokens.start[token] < line_end:
            word = self.word(token)
            if word in _QUOTE_MARKS or word.lower() in _STORY_WORDS:
                return False
            if speech_verb_lemma(word) is not None and word.islower():
                return False
            token += 1
        return True

    # Regions of narration around a quote.

    def _region_after(self, index: int) -> range:
        quote = self.quotes[index]
        start = quote.end_token + 1
        limit = min(start + MAX_TAG_AFTER, len(self.tokens))
        following = self.quotes[index + 1] if index + 1 < len(self.quotes) else None
        if following is not None:
            limit = min(limit, following.start_token)
        end = start
        while end < limit and self.tokens.paragraph_of(end) == quote.last_paragraph:
            end += 1
        return range(start, end)

    def _region_before(self, index: int) -> range:
        quote = self.quotes[index]
        end = quote.start_token
        floor = max(end - MAX_CONTEXT_BEFORE, 0)
        if index > 0:
            floor = max(floor, self.quotes[index - 1].end_token + 1)
        start = end
        while (
            start > floor
            and self.tokens.paragraph_of(start - 1) == quote.first_paragraph
        ):
            start -= 1
        return range(start, end)

    # The rules, in the order of the module docstring.

    def _tag_after(self, index: int) -> tuple[int | None, bool]:
        """Return the tag's speaker and whether the tag is in the quote's sentence."""
        region = self._region_after(index)
        first = self._first_word(region)
        if first is None:
            return None, False
        last = self.quotes[index].end_token
        attached = self.tokens.sentence[first] == self.tokens.sentence[last]
        if self.tokens.pos_of(first) == "VERB":
            return self._inverted_subject(first, region), attached
        return self._leading_subject(first, region), attached

    def _tag_before(self, index: int) -> int | None:
        region = self._region_before(index)
        for verb in reversed(region):
            if self.tokens.pos_of(verb) not in _VERB_POS:
                continue
            for subject in self._subjects(verb):
                if subject in region:
                    found = self._best_in_subtree(subject)
                    if found is not None:
                        return found
        return self._inverted_before(region)

    def _inverted_before(self, region: range) -> int | None:
        """Return the speaker of a tag such as "Said Alice," right before a quote.

        The tag must be the whole clause before the quote. It starts with a
        speech verb (not a noun such as "Shouts") that opens its sentence or
        follows "then" or "and". The person comes right after the verb, and
        only a comma, colon or dash follows the person.
        """
        last = region.stop - 1
        while last > region.start and self.tokens.pos_of(last) == "SPACE":
            last -= 1
        if last - region.start < 2 or self.word(last) not in _TAG_CLOSERS:
            return None
        for index in self.by_head.get(last - 1, ()):
            mention = self.mentions[index]
            if mention.kind == PRON and mention.key not in _SPEAKING_PRONOUNS:
                continue
            verb = mention.start - 1
            if verb < region.start or self.tokens.pos_of(verb) == "NOUN":
                continue
            lemma = speech_verb_lemma(self.word(verb))
            if lemma is None or lemma in _LISTENER_FIRST:
                continue
            sentence_start = self.tokens.sentence_first[self.tokens.sentence[verb]]
            before = self.word(verb - 1).lower() if verb > sentence_start else ""
            if verb == sentence_start or before in ("then", "and"):
                return index
        return None

    def _split_by_tag(self, index: int) -> int | None:
        """Return the previous quote's speaker when its tag alone lies between.

        In ``"Well?" said Peleg when I came back; "what did ye see?"`` the
        second part is Peleg's too, though "I" is the subject nearest before it.
        The narration between must hold the previous quote's speech tag and no
        other speech verb.
        """
        if index == 0 or self.results[index - 1].rule != "after":
            return None
        previous = self.quotes[index - 1]
        if previous.last_paragraph != self.quotes[index].first_paragraph:
            return None
        between = range(previous.end_token + 1, self.quotes[index].start_token)
        speech_verbs = [
            token
            for token in between
            if self.tokens.pos_of(token) in _VERB_POS
            and speech_verb_lemma(self.word(token)) is not None
        ]
        # Within one sentence, a verb of a clause of time is no second tag: in
        # ""Lizzy," said Mr. Bennet when they returned, "your mother ..."" both
        # parts are his. A clause of "as" can be one ("as Jo said sadly, ...").
        sentence = self.tokens.sentence
        if between and sentence[between[0]] == sentence[between[-1]]:
            speech_verbs = [
                token for token in speech_verbs if not self._in_time_clause(token)
            ]
        return self.results[index - 1].mention if len(speech_verbs) == 1 else None

    def _in_time_clause(self, verb: int) -> bool:
        """Return True for "when they returned", not "when Ann said".

        A clause of time whose subject could speak the quote is a tag.
        """
        opens_with_time = any(
            self.word(child).lower() in _TIME_CONJUNCTIONS
            for child in self.tokens.children(verb)
            if child < verb
        )
        if self.tokens.dep_of(verb) != "advcl" or not opens_with_time:
            return False
        for subject in self._subjects(verb):
            found = self._best_in_subtree(subject)
            if found is not None and self.mentions[found].key != "they":
                return False
        return True

    def _continuation(self, index: int) -> int | None:
        if index == 0:
            return None
        previous = self.quotes[index - 1]
        if previous.last_paragraph != self.quotes[index].first_paragraph:
            return None
        return self.results[index - 1].mention

    def _preceding_narration(self, index: int) -> int | None:
        """Return the last subject of the narration paragraph before the quote."""
        quote = self.quotes[index]
        start = quote.start_token
        if start == 0:
            return None
        paragraph = self.tokens.paragraph_of(start - 1)
        if paragraph == quote.first_paragraph:
            return None  # the quote does not open its paragraph
        if index > 0 and self.quotes[index - 1].last_paragraph == paragraph:
            return None  # that paragraph is dialogue, not narration
        sentence = self.tokens.sentence_range(self.tokens.sentence[start - 1])
        # The last clause's subject: in "Miss Bingley played; and soon Mr.
        # Darcy, drawing near, said to her:" Mr. Darcy speaks.
        for verb in reversed(sentence):
            if self.tokens.pos_of(verb) not in _VERB_POS:
                continue
            for subject in self._subjects(verb):
                found = self._best_in_subtree(subject)
                if found is None:
                    continue
                if self._addressed(found, quote) or self._stays_silent(verb):
                    return None
                return found
        return None

    def _stays_silent(self, verb: int) -> bool:
        """Return True for a clause whose subject does not speak.

        "Mr. Casaubon was silent.", "He said nothing.", "She made no answer.",
        "He did not reply." come before the other person's words.
        """
        for child in self.tokens.children(verb):
            word = self.word(child).lower()
            dep = self.tokens.dep_of(child)
            if word in _SILENT_WORDS and dep in ("acomp", "advmod", "oprd"):
                return True
            if dep == "neg" and self.word(verb).lower() in _SPEAKING_WORDS:
                return True
            if dep == "dobj" and word == "nothing":
                return True
            if dep == "dobj" and word in ("answer", "reply") and any(
                self.word(grandchild).lower() == "no"
                for grandchild in self.tokens.children(child)
            ):
                return True
        return False

    def _addressed(self, index: int, quote: QuoteTokens) -> bool:
        """Return True when the quote calls the named person ("Tom, wake up.")."""
        mention = self.mentions[index]
        if mention.kind != PROP:
            return False
        name = self.word(mention.head)
        return any(
            self.word(token) == name
            for token in range(quote.start_token, quote.end_token + 1)
        )

    # Helpers.

    def _first_word(self, region: range) -> int | None:
        """Return the first non-punctuation token, skipping at most two marks."""
        for offset, token in enumerate(region):
            if offset > 2:
                return None
            if self.tokens.pos_of(token) not in ("PUNCT", "SPACE"):
                return token
        return None

    def _inverted_subject(self, verb: int, region: range) -> int | None:
        for subject in self._subjects(verb):
            found = self._best_in_subtree(subject)
            if found is not None:
                return found
        # The parser missed the subject: take the first person mention after the
        # verb, skipping possessive pronouns ("said her uncle").
        for token in range(verb + 1, min(verb + 5, region.stop)):
            for index in self.by_head.get(token, ()):
                mention = self.mentions[index]
                if mention.kind != PRON or mention.key in _SPEAKING_PRONOUNS:
                    return self._prefer_name(index)
        return None

    def _leading_subject(self, first: int, region: range) -> int | None:
        """Return the subject of a verb in ``region`` when it starts at ``first``."""
        for verb in region:
            if self.tokens.pos_of(verb) not in _VERB_POS:
                continue
            for subject in self._subjects(verb):
                if self._left_edge(subject) == first:
                    return self._best_in_subtree(subject)
        return None

    def _subjects(self, verb: int) -> list[int]:
        return [
            child
            for child in self.tokens.children(verb)
            if self.tokens.dep_of(child) in _SUBJECT_DEPS
        ]

    def _subtree(self, root: int) -> list[int]:
        sentence = self.tokens.sentence_range(self.tokens.sentence[root])
        members = []
        for token in sentence:
            node = token
            for _ in range(len(sentence)):
                if node == root:
                    members.append(token)
                    break
                parent = self.tokens.head[node]
                if parent == node:
                    break
                node = parent
        return members

    def _left_edge(self, root: int) -> int:
        return min(self._subtree(root))

    def _best_in_subtree(self, root: int) -> int | None:
        """Return the best person mention whose head lies in ``root``'s subtree.

        A possessor inside the subtree ("Jane" in "Jane's father") is not the
        speaker, so it is skipped, and neither is the object of a preposition
        ("the son of Mr. Brown", or "said the Guernsey-man to Stubb" where the
        parser hangs "to Stubb" on the subject), except after a word of
        quantity ("one of the strangers"). A pronoun root is the speaker
        itself: in "said I, quite embarrassed by the mere idea of having such
        an attendant" the parser hangs the phrase on "I".
        """
        for index in self.by_head.get(root, ()):
            mention = self.mentions[index]
            if mention.kind == PRON and mention.key in _SPEAKING_PRONOUNS:
                return index
        subtree = self._subtree(root)
        if self.word(root).lower() in _PARTITIVES:
            return self._best_of(subtree, root)
        outside = [t for t in subtree if not self._under_preposition(t, root)]
        return self._best_of(outside, root)

    def _best_of(self, tokens: list[int], root: int) -> int | None:
        best: int | None = None
        for token in tokens:
            if token != root and self.tokens.dep_of(token) == "poss":
                continue
            for index in self.by_head.get(token, ()):
                mention = self.mentions[index]
                if mention.kind == PRON and mention.key not in _SPEAKING_PRONOUNS:
                    continue
                if best is None or self._rank(index) < self._rank(best):
                    best = index
        return best

    def _under_preposition(self, token: int, root: int) -> bool:
        """Return True when the path from ``token`` up to ``root`` passes a "prep"."""
        node = token
        while node != root:
            if self.tokens.dep_of(node) == "prep":
                return True
            parent = self.tokens.head[node]
            if parent == node:
                return False
            node = parent
        return False

    def _prefer_name(self, index: int) -> int:
        mention = self.mentions[index]
        if mention.kind == PROP:
            return index
        found = self._best_in_subtree(mention.head)
        return found if found is not None else index

    def _rank(self, index: int) -> tuple[int, int]:
        mention = self.mentions[index]
        return (_KIND_RANK[mention.kind], mention.start)
