"""Unit tests of name clustering, gender summaries and the book-wide name vote."""

from __future__ import annotations

from collections import Counter

import pytest

from runner.analysis.characters import (
    MIN_BARE_GIVEN_NAMES,
    MIN_MISTER_FULL_NAMES,
    MIN_SHARED_SENTENCES,
    MIN_USES_NEVER_SUBJECT,
    PersonName,
    cluster_names,
    display_name,
    gender_summary,
    parse_name,
    retype_located_names,
    retype_place_names,
    retype_shop_names,
    silent_article_names,
    retype_titled_names,
)
from runner.analysis.entities import PER, PROP, Mention, NameCandidate, resolve_names
from runner.analysis.lexicon import HE, SHE, THEY


def cluster(forms: list[str], votes: list[Counter[str]] | None = None) -> list[int]:
    names = [parse_name(form.split()) for form in forms]
    assert all(name is not None for name in names)
    if votes is None:
        votes = [Counter() for _ in forms]
    return cluster_names([name for name in names if name], votes)


def test_parse_name_splits_honorific() -> None:
    assert parse_name(["Mr.", "Darcy"]) == PersonName("mr", ("Darcy",))
    assert parse_name(["Lady", "Catherine", "de", "Bourgh"]) == PersonName(
        "lady", ("Catherine", "de", "Bourgh")
    )
    assert parse_name(["Darcy", "'s"]) == PersonName(None, ("Darcy",))


def test_parse_name_rejects_bare_honorific() -> None:
    assert parse_name(["Captain"]) is None
    assert parse_name([","]) is None


def test_darcy_forms_one_character() -> None:
    ids = cluster(["Mr. Darcy", "Darcy", "Fitzwilliam Darcy", "Mr. Darcy", "Darcy"])
    assert len(set(ids)) == 1


def test_bennet_couple_two_characters() -> None:
    ids = cluster(["Mr. Bennet", "Mrs. Bennet", "Mr. Bennet", "Mrs. Bennet"])
    assert ids[0] == ids[2]
    assert ids[1] == ids[3]
    assert ids[0] != ids[1]


def test_miss_joins_female_full_name() -> None:
    she = Counter({SHE: 1})
    ids = cluster(
        ["Mr. Harlow", "Mrs. Harlow", "Cecily Harlow", "Miss Harlow", "Cecily"],
        [Counter(), Counter(), she, Counter(), Counter()],
    )
    mister, missus, full, miss, given = ids
    assert full == miss == given
    assert mister != full
    assert missus != full
    assert mister != missus


def test_mrs_keeps_apart_from_daughter() -> None:
    ids = cluster(["Mrs. Harlow", "Cecily Harlow"])
    assert ids[0] != ids[1]


def test_mrs_joins_full_name_with_mrs() -> None:
    ids = cluster(["Mrs. Jane Harlow", "Mrs. Harlow"])
    assert ids[0] == ids[1]


def test_names_in_shared_sentences_stay_apart() -> None:
    # Middlemarch: "Mr. Vincy frowned at Fred" is a father and his son.
    forms = ["Fred Vincy"] + ["Mr. Vincy", "Fred"] * MIN_SHARED_SENTENCES
    names = [parse_name(form.split()) for form in forms]
    votes = [Counter() for _ in forms]
    shared = [0] + [sentence for sentence in range(1, 6) for _ in range(2)]
    ids = cluster_names(names, votes, shared)
    fred, mister = ids[0], ids[1]
    assert mister != fred
    assert set(ids[1::2]) == {mister}
    assert set(ids[2::2]) == {fred}


def test_few_shared_sentences_still_join() -> None:
    # "Emma ... Miss Woodhouse" in one sentence of narration happens too.
    forms = ["Fred Vincy"] + ["Mr. Vincy", "Fred"] * MIN_SHARED_SENTENCES
    names = [parse_name(form.split()) for form in forms]
    votes = [Counter() for _ in forms]
    sentences = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6]
    assert len(set(cluster_names(names, votes, sentences))) == 1
    # Names in quotes (sentence None) never keep two names apart.
    assert len(set(cluster_names(names, votes, [None] * len(forms)))) == 1


def test_bare_surname_follows_summed_votes() -> None:
    # Middlemarch: one "she" after one bare "Lydgate" belongs to someone else,
    # so it must not hand that mention to Mrs. Lydgate.
    ids = cluster(
        ["Mr. Harlow", "Mrs. Harlow", "Mrs. Harlow", "Harlow", "Harlow"],
        [Counter(), Counter(), Counter(), Counter({HE: 2}), Counter({SHE: 1})],
    )
    mister, missus, _missus, first_bare, second_bare = ids
    assert first_bare == mister
    assert second_bare == mister
    assert missus != mister


def test_close_votes_leave_bare_surname_to_man() -> None:
    # David Copperfield: "Barkis is willin'" is Mr. Barkis, though Peggotty's
    # "she" lies near some of the bare uses; a wife is never the bare name.
    ids = cluster(
        ["Mr. Barkis", "Mrs. Barkis", "Clara Barkis", "Barkis", "Barkis"],
        [Counter(), Counter(), Counter(), Counter({SHE: 3}), Counter({HE: 2})],
    )
    mister, missus, clara, first_bare, second_bare = ids
    assert first_bare == mister
    assert second_bare == mister
    assert missus != mister
    assert clara != mister


def test_bare_surname_goes_to_the_mister() -> None:
    # Middlemarch: "Vincy" alone is Mr. Vincy, not his son Fred Vincy.
    forms = ["Fred Vincy"] + ["Mr. Vincy", "Fred"] * MIN_SHARED_SENTENCES + ["Vincy"]
    names = [parse_name(form.split()) for form in forms]
    votes = [Counter() for _ in forms[:-1]] + [Counter({HE: 1})]
    shared = [0] + [sentence for sentence in range(1, 6) for _ in range(2)] + [9]
    ids = cluster_names(names, votes, shared)
    assert ids[-1] == ids[1]
    assert ids[-1] != ids[0]


def test_bare_surname_of_other_gender_stands_alone() -> None:
    ids = cluster(
        ["Mrs. Lydgate", "Lydgate", "Lydgate"],
        [Counter(), Counter({HE: 1}), Counter()],
    )
    missus, first_bare, second_bare = ids
    assert first_bare == second_bare
    assert first_bare != missus


def test_bare_surname_follows_its_gendered_uses() -> None:
    # David Copperfield: his nurse is "Peggotty", and "she" refers to her.
    ids = cluster(
        ["Clara Peggotty", "Ham Peggotty", "Peggotty", "Peggotty", "Peggotty"],
        [Counter(), Counter(), Counter({SHE: 1}), Counter(), Counter({SHE: 2})],
    )
    clara, ham, *bare = ids
    assert bare == [clara, clara, clara]
    assert ham != clara


def test_bare_surname_defaults_to_man() -> None:
    ids = cluster(["Mrs. Bennet", "Mrs. Bennet", "Mr. Bennet", "Bennet"])
    assert ids[3] == ids[2]
    # Without a man of the name, the most frequent bearer takes it.
    ids = cluster(["Miss Bingley", "Miss Bingley", "Louisa Bingley", "Bingley"])
    assert ids[3] == ids[0]


def test_given_name_honorifics_join() -> None:
    ids = cluster(
        ["Lady Catherine de Bourgh", "Lady Catherine", "Catherine", "Lady Lucas",
         "William Lucas", "Sir William"]
    )  # fmt: skip
    catherine_full, lady_catherine, catherine, lady_lucas, william, sir_william = ids
    assert catherine_full == lady_catherine
    # A bare "Catherine" is another woman: Lady Catherine keeps her rank.
    assert catherine != catherine_full
    assert william == sir_william
    assert lady_lucas not in (catherine_full, william)


def test_master_given_name_default() -> None:
    ids = cluster(["Master Colin", "Colin", "Mistress Mary", "Mary Lennox", "Mary"])
    colin_title, colin, mary_title, mary_full, mary = ids
    assert colin_title == colin
    assert mary_title == mary_full == mary
    assert colin != mary


def test_nickname_joins_full_name() -> None:
    ids = cluster(["Elizabeth Bennet", "Lizzy", "Elizabeth", "Jane Bennet", "Jane"])
    elizabeth, lizzy, bare, jane_full, jane = ids
    assert elizabeth == lizzy == bare
    assert jane_full == jane
    assert jane != elizabeth


def test_mr_skips_female_full_name() -> None:
    ids = cluster(["Mr. Wickham", "George Wickham", "Lydia Wickham"])
    assert ids[0] == ids[1]
    assert ids[2] != ids[0]


def test_mr_never_joins_a_knight() -> None:
    # Persuasion: Sir Walter Elliot's heir is "Mr. Elliot", another man.
    ids = cluster(["Sir Walter Elliot", "Mr. Elliot", "Sir Walter", "Mr. Elliot"])
    assert ids[0] == ids[2]
    assert ids[1] == ids[3]
    assert ids[1] != ids[0]
    ids = cluster(["Sir Walter Elliot", "Mr. William Elliot", "Mr. Elliot"])
    assert ids[2] == ids[1]
    assert ids[1] != ids[0]
    ids = cluster(["Sir Thomas Bertram", "Sir Thomas", "Thomas"])
    assert ids[1] == ids[0]
    assert ids[2] != ids[0]
    # Friends use a familiar form: Lord Henry Wotton is "Harry".
    ids = cluster(["Lord Henry Wotton", "Lord Henry", "Harry"])
    assert len(set(ids)) == 1


def test_wife_named_after_husband_apart() -> None:
    ids = cluster(
        ["Mr. John Knightley", "Mrs. John Knightley", "John", "Mrs. Knightley"]
    )
    mister, missus, john, bare_missus = ids
    assert missus != mister
    assert john == mister
    assert bare_missus == missus


def test_man_named_by_his_wife_title_apart() -> None:
    # Great Expectations: Joe Gargery and his wife, "Mrs. Joe".
    joe, missus, joe_again = cluster(["Joe", "Mrs. Joe", "Joe"], [
        Counter({SHE: 2}), Counter({SHE: 1}), Counter({SHE: 1})
    ])
    assert joe == joe_again
    assert joe != missus


def test_womans_given_name_as_surname_joins() -> None:
    mister, bare = cluster(["Mr. Rose", "Rose"], [Counter({HE: 1}), Counter({HE: 2})])
    assert mister == bare


def test_saint_apart_from_namesake() -> None:
    george, saint, bare = cluster(["George Washington", "St. George", "Washington"])
    assert saint not in (george, bare)
    rivers, st_john, mister = cluster(["St. John Rivers", "St. John", "Mr. Rivers"])
    assert rivers == st_john == mister


def test_doctor_apart_from_mister() -> None:
    # The Secret Garden: Mr. Archibald Craven, his son Colin Craven and his
    # cousin Dr. Craven.
    ids = cluster(
        ["Mr. Archibald Craven", "Colin Craven", "Mr. Craven", "Dr. Craven",
         "Dr. Craven", "Archibald Craven"]
    )  # fmt: skip
    archibald, colin, mister, doctor, doctor_again, _archibald = ids
    assert mister == archibald
    assert doctor == doctor_again
    assert doctor not in (archibald, colin)
    # Without a "Mr." of the name, the doctor joins his full name.
    ids = cluster(["Archibald Craven", "Dr. Craven"])
    assert ids[1] == ids[0]


def test_cluster_numbers_by_appearance() -> None:
    assert cluster(["Tunde", "Adaeze", "Tunde"]) == [0, 1, 0]


def test_display_name_prefers_full_name() -> None:
    assert display_name(Counter({"Mary": 600, "Mary Lennox": 13})) == "Mary Lennox"
    forms = Counter(
        {"Elizabeth": 600, "Miss Elizabeth Bennet": 4, "Elizabeth Bennet": 3}
    )
    assert display_name(forms) == "Elizabeth Bennet"
    assert display_name(Counter({"Mr. Harlow": 3, "Harlow": 1})) == "Mr. Harlow"


def test_display_name_tie_longer() -> None:
    assert display_name(Counter({"Miriam": 1, "Miriam Voss": 1})) == "Miriam Voss"


def test_gender_summary_shares() -> None:
    summary = gender_summary(Counter({HE: 3, SHE: 1}))
    assert summary["argmax"] == HE
    assert summary["evidence"] == 4
    assert summary["inference"] == {HE: 0.75, SHE: 0.25, THEY: 0.0}


def test_gender_summary_without_evidence() -> None:
    assert gender_summary(Counter()) == {"argmax": None, "inference": {}, "evidence": 0}


def test_gender_summary_tie_null() -> None:
    assert gender_summary(Counter({HE: 1, SHE: 1}))["argmax"] is None


def candidate(
    start: int, words: str, category: str | None, evidence: bool = False
) -> NameCandidate:
    parts = tuple(words.split())
    return NameCandidate(start, start + len(parts) - 1, parts, category, evidence, True)


def test_name_vote_fixes_labels() -> None:
    mentions = resolve_names(
        [
            candidate(0, "Petra", "ORG"),
            candidate(10, "Petra", "ORG", evidence=True),
            candidate(20, "Petra", None),
            candidate(30, "London", "GPE"),
        ]
    )
    assert [(m.start, m.category) for m in mentions] == [
        (0, PER), (10, PER), (20, PER), (30, "GPE"),
    ]  # fmt: skip


def test_name_vote_spreads_name_parts() -> None:
    mentions = resolve_names(
        [
            candidate(0, "Mr. Harlow", PER),
            candidate(5, "Cecily Harlow", None),
            candidate(9, "Cecily", None),
            candidate(12, "Sundays", None),
        ]
    )
    assert [(m.start, m.category) for m in mentions] == [(0, PER), (5, PER), (9, PER)]


@pytest.mark.parametrize("name", ["Fenwick Lane", "Hunsford Parsonage"])
def test_name_vote_place_word_facility(name: str) -> None:
    mentions = resolve_names([candidate(0, name, PER)])
    assert [m.category for m in mentions] == ["FAC"]


def test_name_vote_honorific_gender() -> None:
    mentions = resolve_names(
        [candidate(0, "Mrs. Penrose", PER), candidate(3, "Mr. Okafor", PER)]
    )
    assert [m.gender for m in mentions] == [SHE, HE]


def test_display_name_ignores_single_slip() -> None:
    forms = Counter({"Bartleby": 124, "Meanwhile Bartleby": 1})
    assert display_name(forms) == "Bartleby"
    darcy = Counter({"Mr. Darcy": 271, "Darcy": 90, "Mr. Fitzwilliam Darcy": 1})
    assert display_name(darcy) == "Mr. Darcy"


def test_place_first_word_not_person() -> None:
    # The Secret Garden: "Misselthwaite Manor" (FAC) and the bare "Misselthwaite".
    manor = Mention(0, 1, "FAC", PROP, 1, words=("Misselthwaite", "Manor"))
    bare = Mention(5, 5, PER, PROP, 5, words=("Misselthwaite",))
    mary = Mention(8, 8, PER, PROP, 8, words=("Mary",))
    assert retype_place_names([manor, bare, mary]) == 1
    assert bare.category == "FAC"
    assert mary.category == PER


def test_place_word_in_full_name_stays() -> None:
    hall = Mention(0, 1, "FAC", PROP, 1, words=("Baskerville", "Hall"))
    full = Mention(3, 5, PER, PROP, 5, words=("Sir", "Henry", "Baskerville"))
    bare = Mention(8, 8, PER, PROP, 8, words=("Baskerville",))
    assert retype_place_names([hall, full, bare]) == 0
    assert bare.category == PER


def located_mentions(text: str) -> tuple[list[Mention], list[str]]:
    """One-word PER mentions of the capitalised words of ``text`` (no firsts)."""
    words = text.split()
    mentions = [
        Mention(i, i, PER, PROP, i, words=(word,))
        for i, word in enumerate(words)
        if i > 0 and word[0].isupper()
    ]
    return mentions, words


def word_of(words: list[str]):
    return lambda token: words[token] if 0 <= token < len(words) else ""


def test_name_mostly_after_at_becomes_place() -> None:
    mentions, words = located_mentions(
        "they dined at Netherfield . then Jane rode to Netherfield , and stayed "
        "at Netherfield ; in Kent and in Kent she met Jane and Lucy"
    )
    assert retype_located_names(mentions, word_of(words), no_subjects) == 5
    categories = {m.words[0]: m.category for m in mentions}
    assert categories == {"Netherfield": "FAC", "Kent": "GPE", "Jane": PER, "Lucy": PER}


def no_subjects(token: int) -> str:
    return "pobj"


def test_subject_name_after_at_stays_person() -> None:
    # "looked at Tom", "confided in Tom": a person, because Tom is a subject too.
    mentions, words = located_mentions(
        "she looked at Tom ; then Tom said no , and she confided in Tom"
    )
    subject = words.index("said") - 1
    dep_at = lambda token: "nsubj" if token == subject else "pobj"  # noqa: E731
    assert retype_located_names(mentions, word_of(words), dep_at) == 0
    assert {m.category for m in mentions} == {PER}


def test_possessive_after_in_stays_person() -> None:
    mentions, words = located_mentions(
        "it lay in Lucy 's hand , and in Lucy 's lap ; then Lucy left"
    )
    assert retype_located_names(mentions, word_of(words), no_subjects) == 0
    assert {m.category for m in mentions} == {PER}


def test_name_never_a_subject_becomes_place() -> None:
    # Middlemarch: Brassing is a town that "men from" and "citizens of" come
    # from, never the subject of a clause.
    text = " ; ".join(
        f"{lead} Brassing"
        for lead in ("men from", "citizens of", "debt about", "parts against",
                     "far as", "him beyond", "news of", "roads past")
    )  # fmt: skip
    mentions, words = located_mentions(text)
    assert len(mentions) == MIN_USES_NEVER_SUBJECT
    assert retype_located_names(mentions, word_of(words), no_subjects) == 8
    assert {m.category for m in mentions} == {"GPE"}
    # One clause with the name as subject keeps it a person.
    mentions, words = located_mentions(text + " ; then Brassing laughed")
    subject = len(words) - 2
    dep_at = lambda token: "nsubj" if token == subject else "pobj"  # noqa: E731
    assert retype_located_names(mentions, word_of(words), dep_at) == 0


def test_quoted_name_after_article_never_speaks() -> None:
    # Middlemarch: the "Pioneer" is a newspaper.
    words = 'he read the " Pioneer " and the " Pioneer " lied'.split()
    mentions = [
        Mention(4, 4, PER, PROP, 4, words=("Pioneer",)),
        Mention(8, 8, PER, PROP, 8, words=("Pioneer",)),
    ]
    silent = silent_article_names(mentions, word_of(words), lambda mention: False)
    assert silent == {("Pioneer",)}


def test_titled_name_becomes_person() -> None:
    hill = Mention(0, 1, "FAC", PROP, 1, words=("Mrs.", "Hill"))
    cross = Mention(4, 6, "FAC", PROP, 6, words=("King", "'s", "Cross"))
    lone = Mention(8, 8, "FAC", PROP, 8, words=("Mrs.",))
    assert retype_titled_names([hill, cross, lone]) == 1
    assert hill.category == PER
    assert cross.category == "FAC"
    assert lone.category == "FAC"


def test_names_after_articles_that_never_speak() -> None:
    # Moby-Dick: "the Pequod" sails and "the Hatter" (Alice) speaks; Ahab is a name.
    words = "the Pequod sailed . the Hatter said . Ahab saw the Pequod".split()
    mentions = [
        Mention(1, 1, PER, PROP, 1, words=("Pequod",)),
        Mention(5, 5, PER, PROP, 5, words=("Hatter",)),
        Mention(8, 8, PER, PROP, 8, words=("Ahab",)),
        Mention(10, 11, PER, PROP, 11, words=("the", "Pequod")),
    ]
    silent = silent_article_names(
        mentions, word_of(words), lambda mention: mention.head == 5
    )
    assert silent == {("Pequod",)}


def narrated(forms: list[str], quoted: int = 0) -> list[int]:
    """Cluster ``forms``, one sentence each; the first ``quoted`` are in quotes."""
    names = [parse_name(form.split()) for form in forms]
    sentences = [None if i < quoted else i for i in range(len(forms))]
    return cluster_names(names, [Counter() for _ in forms], sentences)


def test_younger_man_leaves_mister_surname_to_another() -> None:
    # Emma: the narration writes "Mr. John Knightley" and "John" for the
    # younger brother, so "Mr. Knightley" is the elder one.
    times, bare = MIN_MISTER_FULL_NAMES, MIN_BARE_GIVEN_NAMES
    ids = narrated(
        ["Mr. John Knightley"] * times + ["John"] * bare + ["Mr. Knightley"] * 3
    )
    assert len(set(ids[: times + bare])) == 1
    assert ids[-1] == ids[-2] == ids[-3]
    assert ids[-1] != ids[0]
    # One use fewer of the full name, or of the bare given name, and the sign
    # is gone.
    ids = narrated(
        ["Mr. John Knightley"] * (times - 1) + ["John"] * bare + ["Mr. Knightley"]
    )
    assert len(set(ids)) == 1
    ids = narrated(
        ["Mr. John Knightley"] * times + ["John"] * (bare - 1) + ["Mr. Knightley"]
    )
    assert len(set(ids)) == 1


def test_formal_full_name_still_joins_mister_surname() -> None:
    times, bare = MIN_MISTER_FULL_NAMES, MIN_BARE_GIVEN_NAMES
    # Bleak House: "Mr. Richard Carstone" now and then, "Richard" far more.
    ids = narrated(
        ["Mr. Richard Carstone"] * times + ["Richard"] * (4 * times) + ["Mr. Carstone"]
    )
    assert len(set(ids)) == 1
    # David Copperfield: Mr. Micawber says "Mr. Thomas Traddles"; the
    # narration says "Mr. Traddles".
    ids = narrated(
        ["Mr. Thomas Traddles"] * times + ["Tom"] * bare + ["Mr. Traddles"],
        quoted=times,
    )
    assert len(set(ids)) == 1


def tagged_pos(words: list[str]):
    """A coarse tag for the scenes below: PUNCT, AUX, ADP, NOUN or PROPN."""
    tags = {"was": "AUX", "at": "ADP", "to": "ADP", "the": "DET", "'s": "PART"}

    def pos_at(token: int) -> str:
        if not 0 <= token < len(words):
            return ""
        word = words[token]
        if not word[0].isalpha():
            return "PUNCT"
        return tags.get(word, "PROPN" if word[0].isupper() else "NOUN")

    return pos_at


def test_possessive_that_owns_nothing_is_a_shop() -> None:
    # Emma: "took shelter at Ford's.--Ford's was the principal woollen-draper".
    mentions, words = located_mentions(
        "she took shelter at Ford 's . then Ford 's was the shop ; Harriet 's "
        "gown and Harriet 's bonnet , and Harriet went to Harriet 's"
    )
    pos_at = tagged_pos(words)
    assert retype_shop_names(mentions, word_of(words), pos_at) == 2
    categories = {m.words[0]: m.category for m in mentions}
    assert categories == {"Ford": "FAC", "Harriet": PER}
    # A surname right after a title stays a family's even where its
    # possessive owns nothing ("Mr. and Mrs. Gardiner's coming").
    mentions, words = located_mentions(
        "the Mr. and Mrs. Gardiner 's . at Mrs. Gardiner 's ."
    )
    mentions = [m for m in mentions if m.words[0] == "Gardiner"]
    assert retype_shop_names(mentions, word_of(words), tagged_pos(words)) == 0


def test_name_typed_place_more_often_is_a_place() -> None:
    # Emma: the tagger types "Enscombe" GPE more often than PER.
    def uses(*categories: str) -> list[Mention]:
        return [
            Mention(i, i, category, PROP, i, words=("Enscombe",))
            for i, category in enumerate(categories)
        ]

    mentions = uses("GPE", "PER", "GPE", "FAC", "PER", "GPE")
    assert retype_place_names(mentions) == 2
    assert [m.category for m in mentions] == ["GPE", "GPE", "GPE", "FAC", "GPE", "GPE"]
    mentions = uses("GPE", "PER", "PER")
    assert retype_place_names(mentions) == 0
    assert [m.category for m in mentions] == ["GPE", PER, PER]


def test_initial_joins_only_fitting_name() -> None:
    # Emma: Mrs. Elton's "Mr. E." is Mr. Elton; "the Mr. Eltons" is a family.
    ids = cluster(["Mr. Elton", "Mr. E.", "Mr. Eltons", "Mr. Knightley", "Mr. K."])
    elton, initial, _family, knightley, k_initial = ids
    assert initial == elton
    assert k_initial == knightley != elton
    # Two names of that title and letter leave the initial alone.
    ids = cluster(["Mrs. Suckling", "Mrs. Smallridge", "Mrs. S."])
    assert len(set(ids)) == 3
    # The title must match: "Miss W." is no "Mr." Woodhouse.
    ids = cluster(["Mr. Woodhouse", "Miss W."])
    assert ids[0] != ids[1]
