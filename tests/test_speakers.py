"""Quote speakers and the narrator on short real passages, with the default model.

Each passage is copied from a public-domain novel, and the line above it names
the source.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from runner.engine import Engine
from runner.analysis.lexicon import speech_verb_lemma
from runner.engines.spacy_engine import create_engine
from tests.test_spacy_engine import run_job

COMPONENTS = ("tokens", "entities", "quotes", "characters")

# Herman Melville, "Bartleby, the Scrivener" (1853), public domain.
BARTLEBY = """\
Accordingly Turkey, Nippers and Ginger Nut had
taken their seats in a row, each with his document in hand, when I
called to Bartleby to join this interesting group.

"Bartleby!  quick, I am waiting."

I heard a slow scrape of his chair legs on the uncarpeted floor, and
soon he appeared standing at the entrance of his hermitage.

"What is wanted?" said he mildly.

"The copies, the copies," said I hurriedly.  "We are going to examine
them.  There"--and I held towards him the fourth quadruplicate.

"I would prefer not to," he said, and gently disappeared behind the
screen.
"""

# Frances Hodgson Burnett, "The Secret Garden" (1911), chapter 3, public domain.
OLD_MAN = """\
As she stood on the stone floor she looked a very small, odd little black
figure, and she felt as small and lost and odd as she looked.

A neat, thin old man stood near the manservant who opened the door for
them.

"You are to take her to her room," he said in a husky voice.  "He
doesn't want to see her.  He's going to London in the morning."
"""

# Frances Hodgson Burnett, "The Secret Garden" (1911), chapter 13, public domain.
BOY = """\
It was a big room with ancient, handsome furniture in it.  There was a
low fire glowing faintly on the hearth and a night light burning by the
side of a carved four-posted bed hung with brocade, and on the bed was
lying a boy, crying fretfully.

Mary wondered if she was in a real place or if she had fallen asleep
again and was dreaming without knowing it.

The boy had a sharp, delicate face the color of ivory and he seemed to
have eyes too big for it.  He had also a lot of hair which tumbled over
his forehead in heavy locks and made his thin face seem smaller.  He
looked like a boy who had been ill, but he was crying more as if he
were tired and cross than as if he were in pain.

Mary stood near the door with her candle in her hand, holding her
breath.  Then she crept across the room, and, as she drew nearer, the
light attracted the boy's attention and he turned his head on his
pillow and stared at her, his gray eyes opening so wide that they
seemed immense.

"Who are you?" he said at last in a half-frightened whisper.  "Are you
a ghost?"

"No, I am not," Mary answered, her own whisper sounding half
frightened.  "Are you one?"
"""


@pytest.fixture(scope="module")
def engine() -> Engine:
    return create_engine()


def analyse(engine: Engine, tmp_path: pathlib.Path, text: str) -> dict[str, Any]:
    result, _messages, _stats = run_job(
        engine, tmp_path, text.encode(), COMPONENTS, model="litbank"
    )
    return result


def quote_starting(result: dict[str, Any], opening: str) -> dict[str, Any]:
    found = [q for q in result["quotes"] if q["text"].startswith(opening)]
    assert len(found) == 1, [q["text"] for q in result["quotes"]]
    return found[0]


def entity_at(result: dict[str, Any], token: int) -> dict[str, Any]:
    found = [
        e
        for e in result["entities"]
        if e["start_token"] == token and e["end_token"] == token
    ]
    assert len(found) == 1, found
    return found[0]


def tagged_quote(
    result: dict[str, Any], opening: str, word: str
) -> tuple[dict[str, Any], int]:
    """Return the quote that starts with ``opening`` and its speaker token, ``word``."""
    quote = quote_starting(result, opening)
    token = quote["speaker_token"]
    assert token is not None
    assert result["tokens"][token]["word"] == word
    return quote, token


def test_narrator_is_character(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, BARTLEBY)
    narrators = [c for c in result["characters"] if c["name"] == "the narrator"]
    assert len(narrators) == 1, [c["name"] for c in result["characters"]]
    narrator = narrators[0]
    # "I" four times outside the quotes and once in "I am waiting", which the
    # narrator speaks.
    assert narrator["names"] == {"I": 5}
    assert narrator["pronoun_count"] == narrator["mention_count"]


def test_reply_after_vocative_is_addressee(engine: Engine, tmp_path) -> None:
    # "he" in "said he" has no antecedent in reach, so recency alone would
    # give the quote to Ginger Nut.
    result = analyse(engine, tmp_path, BARTLEBY)
    quote = quote_starting(result, '"What is wanted?"')
    assert quote["speaker"] is not None
    assert quote["speaker"]["name"] == "Bartleby"


def test_quoted_i_is_speaker(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, BARTLEBY)
    quote = quote_starting(result, '"I would prefer not to,"')
    assert quote["speaker"] is not None
    pronoun = entity_at(result, quote["start_token"] + 1)
    assert pronoun["text"] == "I"
    assert pronoun["mention_type"] == "PRON"
    assert pronoun["character_id"] == quote["speaker"]["character_id"]


# Herman Melville, "Bartleby, the Scrivener" (1853), public domain.
OFFICE_DOOR = """\
As I had intended, I was earlier than usual at my office door.  I stood
listening for a moment.  All was still.  He must be gone.  I tried the
knob.  The door was locked.  Yes, my procedure had worked to a charm; he
indeed must be vanished.

This appeal to my fellow-feeling was hardly to be resisted.  At all
events, I saw that go he would not.  So I made up my mind to let him
stay.
"""


def test_narrator_only_first_person_words(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, OFFICE_DOOR)
    narrator = next(c for c in result["characters"] if c["name"] == "the narrator")
    assert {name.lower() for name in narrator["names"]} <= {"i", "me", "my", "myself"}
    assert narrator["names"]["I"] >= 6


def test_said_i_speaker_is_narrator(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, BARTLEBY)
    quote = quote_starting(result, '"The copies, the copies,"')
    assert quote["speaker"] is not None
    assert quote["speaker"]["name"] == "the narrator"
    token = quote["speaker_token"]
    assert result["tokens"][token]["word"] == "I"
    assert entity_at(result, token)["character_id"] == quote["speaker"]["character_id"]


def test_pronoun_speaker_unnamed_man(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, OLD_MAN)
    quote, token = tagged_quote(result, '"You are to take her to her room,"', "he")
    assert quote["speaker"] is not None
    speaker = quote["speaker"]["character_id"]
    assert entity_at(result, token)["character_id"] == speaker
    character = result["characters"][speaker]
    assert character["gender"]["argmax"] == "he/him/his"
    assert any("man" in name for name in character["names"]), character["names"]


def test_pronoun_speaker_matches_entity(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, BOY)
    quote, token = tagged_quote(result, '"Who are you?"', "he")
    entity = entity_at(result, token)
    assert quote["speaker"] is not None
    assert entity["character_id"] == quote["speaker"]["character_id"]
    assert quote["speaker"]["name"] != "Mary"
    answer = quote_starting(result, '"No, I am not,"')
    assert answer["speaker"] is not None
    assert answer["speaker"]["name"] == "Mary"


# Written for this project: two speeches of "her mother" more than 400 tokens
# apart (the reach of an unnamed speaker), and one by another girl's mother.
_WALK = (
    "Helen walked along the lane past the mill and the church, and she "
    "counted the elms that stood by the wall of the old vicarage garden.\n\n"
)
RELATIVES = (
    'Helen came down late to breakfast.\n\n"You will miss the coach," said her '
    "mother.\n\n" + _WALK * 18 + "Helen sat down by the window.\n\n"
    '"Put on your shawl," said her mother.\n\n'
    "Lucy Grey came in from the garden.\n\n"
    '"Lucy has lost her gloves," said Lucy\'s mother.\n'
)


def test_one_relation_is_one_character_across_the_book(
    engine: Engine, tmp_path
) -> None:
    result = analyse(engine, tmp_path, RELATIVES)
    first = quote_starting(result, '"You will miss')["speaker"]
    second = quote_starting(result, '"Put on your shawl')["speaker"]
    other = quote_starting(result, '"Lucy has lost')["speaker"]
    assert None not in (first, second, other)
    assert first["character_id"] == second["character_id"]
    assert other["character_id"] != first["character_id"]
    mothers = [c for c in result["characters"] if c["name"] == "her mother"]
    assert len(mothers) == 1, [c["name"] for c in result["characters"]]


# Written for this project: speech verbs that open the clause before a quote,
# which spaCy's parser reads as part of a name or leaves without a subject.
INVERTED_TAGS = """\
Alice looked at the Hatter for a long time.

Said Alice, "I never saw such a tea-party."

The Hatter opened his eyes very wide.

Quoth the old sailor, "We sail at dawn."
"""


# Written for this project: sentence-initial words that look like inverted
# speech tags but name the listener or are nouns; the speaker is in the beat.
FALSE_INVERSIONS = """\
Then told Tom the news. "He is dead." Mary wept.

The door opened. Then asked Mary to leave. "Go now." Tom pointed at the door.

Shouts rang out for Tom. "Hurrah!" Mary waved her hat.

"Come in," said Jane's father.
"""


def test_listener_and_possessor_do_not_speak(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, FALSE_INVERSIONS)
    speakers = {
        opening: quote_starting(result, opening)["speaker"]
        for opening in ('"He is dead', '"Go now', '"Hurrah', '"Come in')
    }
    assert {k: v and v["name"] for k, v in speakers.items()} == {
        '"He is dead': "Mary",
        '"Go now': "Tom",
        '"Hurrah': "Mary",
        '"Come in': "Jane's father",
    }


def test_speech_verb_before_quote_names_speaker(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, INVERTED_TAGS)
    alice = quote_starting(result, '"I never saw')["speaker"]
    assert alice is not None
    assert alice["name"] == "Alice"
    sailor = quote_starting(result, '"We sail')["speaker"]
    assert sailor is not None
    assert "sailor" in sailor["name"]


@pytest.mark.parametrize(
    ("word", "lemma"),
    [
        ("Said", "say"),
        ("Quoth", "say"),
        ("told", "tell"),
        ("cried", "cry"),
        ("Replied", "reply"),
        ("Asked", "ask"),
        ("answers", "answer"),
        ("whispers", "whisper"),
        ("stammered", "stammer"),
        ("nodded", "nod"),
        ("Fred", None),
        ("Agnes", None),
        ("sailed", None),
        ("Miles", None),
    ],
)
def test_speech_verb_lemma(word: str, lemma: str | None) -> None:
    assert speech_verb_lemma(word) == lemma


# Written for this project: an untagged quote right after a paragraph of
# narration, whose last sentence's subject speaks.
AFTER_NARRATION = """\
Ada and Tobias walked up the lane to the farm.

Ada stopped at the gate and frowned.

"The dog has gone again."
"""


def test_quote_after_narration_takes_its_subject(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, AFTER_NARRATION)
    speaker = quote_starting(result, '"The dog')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Ada"


# Written for this project: names written after an article that are people
# all the same, and a quote that calls the last narration's subject by name.
ARTICLE_PEOPLE = """\
Mrs. Sowerby came to the door. Mrs. Sowerby smiled at the boy.

"Come in," Mrs. Sowerby said.

He walked past the Sowerby cottage every day. The Hatter poured tea.

"More tea?" asked the Hatter.

Anna looked at Tom. Tom was asleep.

"Tom, wake up."
"""


def test_article_names_that_speak_stay_characters(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, ARTICLE_PEOPLE)
    names = {character["name"] for character in result["characters"]}
    assert {"Mrs. Sowerby", "Hatter"} <= names
    assert quote_starting(result, '"More tea')["speaker"]["name"] == "Hatter"
    assert quote_starting(result, '"Tom, wake')["speaker"] is None


# Herman Melville, "Moby-Dick" (1851), public domain.
PELEG = """\
"Well, what's the report?" said Peleg when I came back; "what did ye see?"

"Not much," I replied.
"""


def test_quote_split_by_its_tag_keeps_speaker(engine: Engine, tmp_path) -> None:
    result = analyse(engine, tmp_path, PELEG)
    first = quote_starting(result, '"Well, what')
    second = quote_starting(result, '"what did ye see?"')
    assert first["speaker"] is not None
    assert first["speaker"]["name"] == "Peleg"
    assert second["speaker"] == first["speaker"]
    assert quote_starting(result, '"Not much,"')["speaker"]["name"] == "the narrator"


def test_silent_subject_does_not_speak(engine: Engine, tmp_path) -> None:
    # Middlemarch: the quote after "Mr. Casaubon was silent." is Dorothea's.
    result = analyse(
        engine,
        tmp_path,
        "Dorothea told her husband about the letter.\n\n"
        "Mr. Casaubon was silent.\n\n"
        '"I feared that you might object to him."\n\n'
        "Mr. Brooke said nothing.\n\n"
        '"He will come tomorrow, then."\n',
    )
    for opening in ('"I feared', '"He will come'):
        speaker = quote_starting(result, opening)["speaker"]
        if speaker is not None:
            assert speaker["name"] not in ("Mr. Casaubon", "Mr. Brooke")


def test_exchange_opened_in_narration(engine: Engine, tmp_path) -> None:
    # The first turn ends a paragraph of narration; the untagged third turn is
    # the first speaker's again (A, ?, A).
    result = analyse(
        engine,
        tmp_path,
        "Mr. Farebrother was silent for a moment, and then said earnestly, "
        '"My dear fellow, may I ask you one question?"\n\n'
        '"I do not think you will ask anything that could offend me."\n\n'
        '"Then tell me whether you have borrowed more money."\n',
    )
    speaker = quote_starting(result, '"Then tell me')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "Mr. Farebrother"


def test_quote_never_goes_to_the_person_it_addresses(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    # Emma: turn-taking gave Emma's "I do not ask whether you are musical,
    # Mrs. Elton." to Mrs. Elton, the other person in the exchange.
    result = analyse(
        engine,
        tmp_path,
        'Emma and Mrs. Elton sat down together.\n\n'
        '"Do you play at all?" said Mrs. Elton.\n\n'
        '"A little," said Emma.\n\n'
        '"I do not ask whether you are musical, Mrs. Elton. Highbury has long '
        'known that you are a superior performer."\n',
    )
    speaker = quote_starting(result, '"I do not ask')["speaker"]
    assert speaker is None or speaker["name"] != "Mrs. Elton"
    tagged = quote_starting(result, '"Do you play')["speaker"]
    assert tagged is not None
    assert tagged["name"] == "Mrs. Elton"


def test_pronoun_in_tag_speaks_over_its_modifiers(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    # Bleak House: the parser hung "quite embarrassed by ... such an
    # attendant" on the "I" of "said I", and the attendant got the quote.
    result = analyse(
        engine,
        tmp_path,
        "I looked at the Frenchwoman and she looked at me.\n\n"
        '"I assure you," said I, quite embarrassed by the mere idea of having '
        'such an attendant, "that I keep no maid."\n',
    )
    speaker = quote_starting(result, '"I assure you')["speaker"]
    assert speaker is not None
    assert speaker["name"] == "the narrator"


def test_tag_pronoun_follows_speaker(engine: Engine, tmp_path: pathlib.Path) -> None:
    # The self-naming rule gives the quote to Kenge, after the "he" had been
    # linked to Ishmael, the name just before it.
    result = analyse(
        engine, tmp_path, 'Call me Ishmael.\n\n"My name is Kenge," he said.\n'
    )
    quote = quote_starting(result, '"My name is Kenge')
    assert quote["speaker"] is not None
    assert quote["speaker"]["name"] == "Kenge"
    he = entity_at(result, quote["speaker_token"])
    assert he["text"] == "he"
    assert he["character_id"] == quote["speaker"]["character_id"]
    names = {c["name"]: c["names"] for c in result["characters"]}
    assert "he" not in names["Ishmael"]


def test_exclamations_are_no_characters(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    result = analyse(
        engine,
        tmp_path,
        '"Fire!" shouted the man.\n\n"Rubbish!" said Anna Holt.\n\n'
        '"Order!" said the chairman.\n\n"Anna!" cried the man.\n',
    )
    names = {c["name"] for c in result["characters"]}
    assert not names & {"Fire", "Rubbish", "Order"}, names
    # A name that is also written outside a one-word quote stays.
    assert "Anna Holt" in names


def test_only_persons_have_characters(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    result = analyse(
        engine,
        tmp_path,
        '"Forward!" shouted the company. The company marched to the town, and '
        "the town watched the company pass.\n",
    )
    with_character = [e for e in result["entities"] if e["character_id"] is not None]
    assert with_character
    for entity in with_character:
        assert entity["category"] == "PER", entity


def test_decomposed_accent_same_name(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    # "José" with a combining acute (U+0301) twice, and precomposed once.
    text = "Mary met Jose\u0301. Then Jos\u00e9 left. Jose\u0301 smiled.\n"
    result = analyse(engine, tmp_path, text)
    sentences = {token["sentence_id"] for token in result["tokens"]}
    assert len(sentences) == 3
    joses = [c for c in result["characters"] if c["name"].startswith("Jos")]
    assert len(joses) == 1, [c["name"] for c in result["characters"]]
    assert joses[0]["mention_count"] == 3


def test_tag_preposition_object_not_speaker(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    # Moby-Dick, chapter 91: the parser hangs "to Stubb" on the subject, and
    # the name inside the subject's subtree was preferred to its noun phrase.
    result = analyse(
        engine,
        tmp_path,
        'Stubb came forward.\n\n"What now?" said the Guernsey-man to Stubb.\n',
    )
    speaker = quote_starting(result, '"What now?"')["speaker"]
    assert speaker is not None
    assert speaker["name"] != "Stubb"


def test_three_way_turn_not_guessed(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Anna, Bella and Clara sat down.\n\n"
        '"Good morning," said Anna.\n\n"Hello," said Bella.\n\n'
        '"Hi," said Clara.\n\n"What a day it is."\n',
    )
    assert quote_starting(result, '"Hi,"')["speaker"]["name"] == "Clara"
    # Any of the three may speak next.
    assert quote_starting(result, '"What a day')["speaker"] is None


def test_heading_numeral_no_narrator(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    result = analyse(
        engine,
        tmp_path,
        "SCENE I. A platform before the castle.\n\nThe night was cold, and "
        "Chapter I of the tale was short.\n",
    )
    names = [c["name"] for c in result["characters"]]
    assert "the narrator" not in names
    assert not [e for e in result["entities"] if e["text"] == "I"]


@pytest.mark.parametrize(
    ("tagged_turn", "speaker"),
    [('"Alone?" he asked.', "Holmes"), ('"Alone," he went on.', "Watson")],
)
def test_pronoun_tag_takes_next_turn(
    engine: Engine, tmp_path: pathlib.Path, tagged_turn: str, speaker: str
) -> None:
    # "he" is nearest to Watson, but a new paragraph of the exchange is
    # Holmes's turn; "he went on" keeps the speaker.
    result = analyse(
        engine,
        tmp_path,
        '"Where have you been?" said Holmes.\n\n"At the club," said Watson.\n\n'
        f"{tagged_turn}\n",
    )
    assert quote_starting(result, '"Alone')["speaker"]["name"] == speaker


def test_addressed_pronoun_tag_goes_to_other_person(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    # "he" was linked to Jim, whom the quote addresses.
    result = analyse(
        engine,
        tmp_path,
        '"Come here, Jim," said Silver.\n\n"I won\'t," said Jim.\n\n'
        '"You are a sharp one, Jim," said he.\n',
    )
    quote = quote_starting(result, '"You are a sharp')
    assert quote["speaker"]["name"] == "Silver"
    assert result["tokens"][quote["speaker_token"]]["word"] == "he"


def test_time_clause_in_split_quote_tag(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    result = analyse(
        engine,
        tmp_path,
        "Elizabeth walked to Netherfield with Jane.\n\n"
        '"Lizzy," said Mr. Bennet when they returned, "your mother is in a '
        'passion."\n',
    )
    second = quote_starting(result, '"your mother')
    assert second["speaker"]["name"] == "Mr. Bennet"
    assert result["tokens"][second["speaker_token"]]["word"] == "Bennet"


def test_cited_extracts_have_no_speaker(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    # Herman Melville, "Moby-Dick" (1851), from the Extracts, public domain.
    result = analyse(
        engine,
        tmp_path,
        '  "By art is created that great Leviathan, called a Commonwealth or\n'
        'State--(in Latin, Civitas) which is but an artificial man."\n'
        "  --OPENING SENTENCE OF HOBBES'S LEVIATHAN.\n\n"
        '  "Silly Mansoul swallowed it without chewing, as if it had been a\n'
        'sprat in the mouth of a whale."\n'
        "  --PILGRIM'S PROGRESS.\n\n"
        '  "The mighty whales which swim in a sea of water, and have a sea of\n'
        'oil swimming in them."\n'
        "  --FULLLER'S PROFANE AND HOLY STATE.\n",
    )
    assert len(result["quotes"]) == 3
    assert [quote["speaker"] for quote in result["quotes"]] == [None] * 3


@pytest.mark.parametrize(
    ("text", "opening", "speaker"),
    [
        # A clause of time with a person as subject is a tag.
        (
            'Tom and Ann stood at the gate.\n\n"Go away," cried Tom, when Ann '
            'said, "Good morning."\n',
            '"Good morning',
            "Ann",
        ),
        # A dash line that goes on with the story is no source.
        (
            'Ann looked at Tom.\n\n"I will not go,"\n\u2014said Tom, folding his '
            "arms.\n",
            '"I will not go',
            "Tom",
        ),
        # The person addressed is the speaker when they address themselves.
        (
            'Silver watched Jim climb the mast.\n\n"Steady, Jim," he told '
            "himself.\n",
            '"Steady',
            "Jim",
        ),
        # "raising himself" is no talk to oneself: Tom is the listener, and
        # both halves of the quote are Mr. Bounderby's.
        (
            'Mr. Bounderby looked at Tom.\n\n"Now, Tom," he said, raising '
            'himself in his chair, "you must work."\n',
            '"you must work',
            "Mr. Bounderby",
        ),
        (
            'Tom and Harry sat by the fire.\n\n"You forget yourself, Harry," '
            "said he, drawing himself up.\n",
            '"You forget',
            "Tom",
        ),
        # A dash line with a pronoun goes on with the story.
        (
            'Ann looked at Tom.\n\n"I will not go."\n\u2014Tom folded his arms.\n',
            '"I will not go',
            "Tom",
        ),
    ],
)
def test_tag_rules_keep_their_speaker(
    engine: Engine, tmp_path: pathlib.Path, text: str, opening: str, speaker: str
) -> None:
    result = analyse(engine, tmp_path, text)
    assert quote_starting(result, opening)["speaker"]["name"] == speaker


def test_one_tag_gives_both_halves_one_speaker(
    engine: Engine, tmp_path: pathlib.Path
) -> None:
    result = analyse(
        engine,
        tmp_path,
        '"Is that you?" asked Watson.\n\n"Come in," said Holmes.\n\n'
        '"Sit down," he said, pointing to a chair. "You look tired."\n',
    )
    first = quote_starting(result, '"Sit down')["speaker"]
    second = quote_starting(result, '"You look')["speaker"]
    assert first is not None
    assert first == second
