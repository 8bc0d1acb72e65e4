"""Word lists shared by the entity, character and speaker steps.

All keys are lower case; honorifics are stored without their final period, so
``honorific_key("Mrs.")`` and ``honorific_key("Mrs")`` both give ``"mrs"``. The
lists are whitespace-separated words, which keeps them compact and easy to extend.
"""

from __future__ import annotations

HE = "he/him/his"
SHE = "she/her"
THEY = "they/them/their"
GENDER_LABELS = (HE, SHE, THEY)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Honorifics that give the bearer's gender, and those that do not.
MALE_HONORIFICS = _words(
    """
    baron brother count don duke earl father herr king lord m marquis master messrs
    mester mister monsieur mr prince senor signor sir squire uncle
    """
) | _words("mas'r mas’r")  # Mr. Peggotty's dialect "Mas'r Davy" for "Master"
FEMALE_HONORIFICS = _words(
    """
    aunt baroness countess dame duchess frau fraulein lady madam madame mademoiselle
    marchioness miss mistress mlle mme mrs ms princess queen senora signora sister
    """
)
NEUTRAL_HONORIFICS = _words(
    """
    admiral capt captain col colonel commodore constable corporal doctor dr gen
    general governor inspector judge lieutenant lt major nurse president prof
    professor rev reverend saint sergeant sgt st
    """
)
HONORIFICS = MALE_HONORIFICS | FEMALE_HONORIFICS | NEUTRAL_HONORIFICS

# Honorifics whose following name is as often a given name ("Lady Catherine",
# "Master Colin") as a surname ("Lady Lucas"). The others always take a surname.
GIVEN_NAME_HONORIFICS = _words(
    """
    aunt brother dame don father king lady lord master mester miss mistress ms
    prince princess queen saint sir sister st uncle
    """
) | _words("mas'r mas’r")
# Of those, the ones that take a given name when no full name in the book decides.
GIVEN_NAME_DEFAULT = _words(
    """
    aunt brother dame don father king master mester mistress prince princess queen
    saint sir sister st uncle
    """
) | _words("mas'r mas’r")
# Honorifics of married women, kept apart from "Miss" when clustering names.
MARRIED_FEMALE_HONORIFICS = _words("mrs madame mme frau signora")

# Third-person personal pronouns and the gender label each one is evidence for.
PRONOUN_GENDER: dict[str, str] = {
    **{word: HE for word in "he him his himself".split()},
    **{word: SHE for word in "she her hers herself".split()},
    **{word: THEY for word in "they them their theirs themselves".split()},
}
NOMINATIVE_PRONOUNS = _words("he she they")
REFLEXIVE_PRONOUNS = _words("himself herself themselves")

# Singular common nouns that name a person, with the gender they imply (None when
# the noun implies none). NOM mentions are made only from these.
_MALE_PERSON_NOUNS = """
    boatman boy bridegroom brother butler chap clergyman coachman curate duke father
    fellow ferryman fisherman footman gentleman grandfather grandson host husband
    king knight lad landlord lordship man master nephew papa parson postman priest
    prince rector schoolmaster son squire uncle vicar widower
"""
_FEMALE_PERSON_NOUNS = """
    aunt bride daughter duchess gentlewoman girl governess granddaughter grandmother
    hostess housekeeper housemaid lady ladyship landlady lass maid mama mamma miss
    mistress mother niece nurse nursemaid princess queen schoolmistress sister
    waitress widow wife woman
"""
_OTHER_PERSON_NOUNS = """
    baby captain child clerk colonel companion cook cousin doctor farmer friend
    gardener guest judge lawyer lover merchant neighbor neighbour officer person
    physician porter purser sailor servant shepherd soldier stranger surgeon teacher
    visitor waiter youth
"""
PERSON_NOUNS: dict[str, str | None] = {
    **{noun: None for noun in _OTHER_PERSON_NOUNS.split()},
    **{noun: HE for noun in _MALE_PERSON_NOUNS.split()},
    **{noun: SHE for noun in _FEMALE_PERSON_NOUNS.split()},
}

# Relations a person has only one of at a time. With the same possessor, "her
# mother" is one character however far apart its mentions lie. A woman may
# have several sisters, so "her sister" joins only the nearest one.
ONE_PER_PERSON_NOUNS = _words(
    "father grandfather grandmother guardian husband mama mamma mother papa wife"
)

# Verb lemmas of speech tags ("said Tunde", "Adaeze replied"). A capitalised word
# that is the subject of one of these is taken for a person even when the NER
# model missed it.
SPEECH_VERBS = _words(
    """
    add admit agree announce answer ask beg begin call chuckle continue cry declare
    demand enquire exclaim explain gasp groan growl grumble inquire insist interrupt
    laugh murmur mutter nod observe offer pant protest remark repeat reply respond
    retort return say scream shout sigh smile snap sneer sob stammer suggest tell
    think urge warn whimper whisper yell
    """
)

# Past and present forms of speech verbs that the suffix rules in
# ``speech_verb_lemma`` do not reach.
_IRREGULAR_SPEECH_FORMS = {
    "said": "say", "says": "say", "saith": "say", "quoth": "say",
    "told": "tell", "began": "begin", "thought": "think",
}  # fmt: skip


def speech_verb_lemma(word: str) -> str | None:
    """Return the ``SPEECH_VERBS`` lemma of a verb form ("cried", "saying", "ask").

    Returns None for any other word. Only spelling is checked, so a noun such
    as "Shouts" also gives a lemma; callers check the part of speech.
    """
    word = word.lower()
    if word in _IRREGULAR_SPEECH_FORMS:
        return _IRREGULAR_SPEECH_FORMS[word]
    if word in SPEECH_VERBS:
        return word
    stems = []
    if word.endswith("ing"):
        stems += [word[:-3], word[:-3] + "e", word[:-4]]  # "saying", "smiling"
    if word.endswith("ied"):
        stems.append(word[:-3] + "y")
    if word.endswith("ed"):
        stems += [word[:-2], word[:-1], word[:-3]]  # "asked", "replied", "begged"
    if word.endswith("s"):
        stems += [word[:-1], word[:-2]]  # "asks", "whispers", "pushes"
    return next((stem for stem in stems if stem in SPEECH_VERBS), None)


# Pronouns that name the speaker in a speech tag ("he said", "said I").
TAG_PRONOUNS = _words("he she i they we you")
# Words that can open the speaker after an inverted verb ("said the old man").
_SPEAKER_OPENERS = TAG_PRONOUNS | _words("the a an his her their my")
# Words of a speech tag read at most: a name of up to two words ("Buck
# Mulligan", "Mr. Deasy") and the verb.
MAX_TAG_WORDS = 3


def speech_tag_verb(words: list[str]) -> int | None:
    """Return the verb's index in "he said", "Buck Mulligan cried", "asked Stephen".

    Returns None when the words open no speech tag. A speaker word followed by
    a comma ("Tell me, Mulligan, Stephen said") is the person spoken to. Only
    the first ``MAX_TAG_WORDS`` words are read.
    """
    if len(words) < 2:
        return None
    if _tag_lemma(words[0]) is not None and _can_speak(words[1]):
        return 0  # "said Buck Mulligan", "cried the old man", "said he"
    first = words[0]
    titled = first[-1] == "." and first[:1].isupper() and len(first) <= 4  # "Mr."
    if not first[-1].isalpha() and not titled:
        return None
    if first.lower() not in TAG_PRONOUNS and not first[:1].isupper():
        return None
    for index in range(1, min(len(words), MAX_TAG_WORDS)):
        word = words[index]
        if _tag_lemma(word) is not None:
            return index
        if not word[:1].isupper() or not word[-1].isalpha():
            return None
    return None


def _tag_lemma(word: str) -> str | None:
    """Return the lemma of a speech verb that can tag speech, or None.

    "I thought so" and "he told me nothing" are speech, not tags.
    """
    lemma = speech_verb_lemma(word.strip(",.;:!?"))
    return None if lemma in (None, "think", "tell") else lemma


def _can_speak(word: str) -> bool:
    return word.strip(",.;:!?").lower() in _SPEAKER_OPENERS or word[:1].isupper()


# Last words that make a "name" a place: spaCy's small model labels "Fenwick Lane"
# PERSON. Such spans become FAC.
PLACE_WORDS = _words(
    """
    abbey avenue bridge castle cathedral chapel church college common cottage court
    crescent farm garden gardens gate grange green hall heath hill hospital hotel
    house inn lane lodge manor moor park parsonage place priory quay rectory road
    row school square station street terrace tower vicarage wharf wood
    """
)

# Common English short forms of given names, each mapped to its full form. They
# are used only to join a short form to a character named with the full form.
_NICKNAMES = """
    lizzy=elizabeth lizzie=elizabeth eliza=elizabeth bess=elizabeth bessie=elizabeth
    betsy=elizabeth tom=thomas tommy=thomas bill=william billy=william will=william
    dick=richard bob=robert bobby=robert ned=edward teddy=edward jack=john
    johnny=john harry=henry peggy=margaret meg=margaret maggie=margaret polly=mary
    molly=mary sally=sarah nell=eleanor nelly=eleanor kate=katherine jim=james
    jimmy=james joe=joseph sam=samuel ben=benjamin fred=frederick charlie=charles
"""
NICKNAMES: dict[str, str] = dict(pair.split("=") for pair in _NICKNAMES.split())

# Common given names in English fiction, with the gender they usually carry. They
# steer pronoun links and name clustering when the text gives no evidence (to
# tell "George Wickham" from "Lydia Wickham"), and are never counted as votes.
_FEMALE_GIVEN_NAMES = """
    ada agnes alice amelia amy ann anna anne arabella augusta beatrice bertha betsy
    betty caroline catherine cecilia charlotte clara clarissa constance diana dora
    dorothea dorothy edith eleanor elinor eliza elizabeth ellen emily emma esther
    evelyn fanny florence frances georgiana grace hannah harriet helen henrietta
    isabel isabella jane janet jemima jessie joan julia juliet kate katherine kitty
    laura lavinia lizzy louisa lucy lydia mabel margaret maria marian marianne
    martha mary matilda maud mildred molly nancy nell olivia peggy penelope phoebe
    polly rachel rebecca rosa rosamond rose ruth sally sarah sophia sophie susan
    susanna theresa victoria violet
"""
_MALE_GIVEN_NAMES = """
    abraham adam albert alfred andrew anthony archibald arthur benjamin bill bob
    charles christopher colin daniel david dick edgar edmund edward ernest francis
    frank fred frederick geoffrey george gilbert godfrey harold harry henry herbert
    hugh humphrey isaac jack jacob james jim john joseph lawrence leonard lewis
    louis luke mark martin matthew michael nathaniel ned nicholas oliver patrick
    paul peter philip ralph richard robert roger samuel silas simon stephen thomas
    timothy tom walter william
"""
GIVEN_NAME_GENDER: dict[str, str] = {
    **{name: SHE for name in _FEMALE_GIVEN_NAMES.split()},
    **{name: HE for name in _MALE_GIVEN_NAMES.split()},
}

# Lower-case words that join the parts of a surname ("de Bourgh", "van Helsing").
NAME_PARTICLES = _words("da de del della den der di du la le van von")
# The particles that are no name alone: "La!" is an exclamation (Lydia
# Bennet's), "De" or "Von" a fragment. Da, Della, Di and Van are also given
# names or nicknames, so they stay possible.
LONE_PARTICLES = NAME_PARTICLES - _words("da della di van")

# Words that spaCy's small model sometimes labels as names when they start a
# sentence or a line of dialogue: interjections, forms of address, adjectives and
# the archaic or dialect pronouns of older fiction ("Tha'll", "Th'"), and speech
# verbs that open an inverted tag ("Said Tom"). The feast days that date events
# in older fiction ("before Michaelmas") are no names either. They are compared
# after ``name_word_key``, so "Tha'rt" is "tha".
NOT_NAMES = _words(
    """
    ah alas anybody ay aye bah bless chapter dear eh everybody father god good
    goodness great ha hallo heaven hello hm hooray hullo humph hurrah hush i lawks
    little lor lord ma ma'am madam mama mamma master mercy miss mistress mother mr
    mrs mum nay no nobody oh old papa pooh poor pshaw sir somebody sweet th tha
    thank thanks thee thine thou thy thysen well ye yer yes yo young majesty
    highness lordship ladyship worship
    said says cried asked replied answered exclaimed whispered shouted
    advent candlemas christmas easter lammas lent martinmas michaelmas midsummer
    whitsun whitsuntide
    """
)

# Words that do not open a longer name ("On Monday Jane said") but may be a
# name alone: Robinson Crusoe's Friday.
NOT_NAME_OPENERS = _words("monday tuesday wednesday thursday friday saturday sunday")

# The verbs of a play's stage directions, written before the names they move
# ("Enter Horatio", "Exeunt Rosencrantz and Guildenstern").
STAGE_DIRECTION_VERBS = _words("enter re-enter exit exeunt manet manent")


def name_word_key(word: str) -> str:
    """Return ``word`` in lower case and cut at an inner apostrophe.

    ``Tha'll`` gives ``tha``; a leading apostrophe stays (``'em``).
    """
    lowered = word.lower().replace("’", "'")
    return lowered.split("'", 1)[0] if "'" in lowered[1:] else lowered


def honorific_key(word: str) -> str:
    """Return ``word`` as an honorific key: lower case, final period removed."""
    return word.lower().rstrip(".")


def honorific_gender(key: str) -> str | None:
    """Return the gender label an honorific key implies, or None."""
    if key in MALE_HONORIFICS:
        return HE
    if key in FEMALE_HONORIFICS:
        return SHE
    return None


def canonical_given_name(name: str) -> str:
    """Return the lower-case full form of a given name (``Lizzy`` -> ``elizabeth``)."""
    lowered = name.lower()
    return NICKNAMES.get(lowered, lowered)
