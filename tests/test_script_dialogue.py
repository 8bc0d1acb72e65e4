"""Speech laid out as in a play, after a cue in capitals (``script_dialogue``)."""

from __future__ import annotations

import pytest

from runner.analysis.layout import normalize_text, split_paragraphs
from runner.analysis.script_dialogue import script_speeches
from runner.engine import Engine
from runner.engines.spacy_engine import create_engine
from tests.test_quotes import quote_texts
from tests.test_spacy_engine import run_job

# From Herman Melville, "Moby-Dick" (1851), chapter 40, public domain;
# cut to six speeches.
FORECASTLE = """\
CHAPTER 40

Midnight, Forecastle

Ishmael kept to his hammock and listened.

DUTCH SAILOR

Grand snoozing to-night, maty; fat night for that.  I mark this in our old
Mogul's wine.

FRENCH SAILOR

Hist, boys! let's have a jig or two before we ride to anchor
in Blanket Bay.  Pip! little Pip! hurrah with your tambourine!

PIP (Sulky and sleepy)

Don't know where it is.

FRENCH SAILOR

Beat thy belly, then, and wag thy ears.

AZORE SAILOR

(Ascending, and pitching the tambourine up the scuttle.)

Here you are, Pip; and I say there's the windlass-bits.

ALL

Aye! aye!
"""

# Written for this project, in the layout of a printed play.
PLAY = """\
SCENE I. A platform before the castle.

Enter Barnardo and Francisco.

BARNARDO.
Who's there?

FRANCISCO.
Nay, answer me. I am the watch.

[_Exit._]

BARNARDO. Long live the King!
"""


def _speeches(text: str) -> list[tuple[str, str]]:
    normalized = normalize_text(text)
    paragraphs = split_paragraphs(normalized, 0, len(normalized))
    return [
        (
            normalized[speech.label_start : speech.label_end],
            normalized[speech.start : speech.end],
        )
        for speech in script_speeches(normalized, paragraphs)
    ]


def test_cue_paragraphs_start_speech() -> None:
    speeches = _speeches(FORECASTLE)
    labels = [label for label, _speech in speeches]
    assert labels == [
        "DUTCH SAILOR", "FRENCH SAILOR", "PIP", "FRENCH SAILOR", "AZORE SAILOR", "ALL"
    ]
    assert speeches[0][1].startswith("Grand snoozing")
    assert speeches[0][1].endswith("Mogul's wine.")
    # The stage direction in its own paragraph is no speech.
    assert speeches[4][1] == "Here you are, Pip; and I say there's the windlass-bits."


def test_play_cues_and_directions() -> None:
    assert _speeches(PLAY) == [
        ("BARNARDO", "Who's there?"),
        ("FRANCISCO", "Nay, answer me. I am the watch."),
        ("BARNARDO", "Long live the King!"),
    ]


def test_cue_lines_within_paragraph() -> None:
    text = (
        "ACT I. SCENE I. On a ship at sea.\n\n"
        "MASTER. Boatswain!\n"
        "BOATSWAIN. Here, master: what cheer?\n"
        "MASTER. Good, speak to the mariners.\n\n"
        "Enter ALONSO and GONZALO.\n\n"
        "ALONSO: Good boatswain, have care.\n"
    )
    assert _speeches(text) == [
        ("MASTER", "Boatswain!"),
        ("BOATSWAIN", "Here, master: what cheer?"),
        ("MASTER", "Good, speak to the mariners."),
        ("ALONSO", "Good boatswain, have care."),
    ]


def test_shaw_layout_and_titled_cues() -> None:
    # Written for this project, in the layout of Shaw's plays.
    text = (
        "THE DAUGHTER [in the space between the pillars] I am getting "
        "chilled.\n\n"
        "THE MOTHER. Not so long.\n\n"
        "A BYSTANDER [on the lady's right] He won't get no cab.\n\n"
        "MRS. HIGGINS. Henry!\n\n"
        "THE MOTHER: But we must have a cab.\n"
    )
    assert _speeches(text) == [
        ("THE DAUGHTER", "I am getting chilled."),
        ("THE MOTHER", "Not so long."),
        ("A BYSTANDER", "He won't get no cab."),
        ("MRS. HIGGINS", "Henry!"),
        ("THE MOTHER", "But we must have a cab."),
    ]


def test_headlines_and_notices_are_no_cues() -> None:
    # Each headline or dateline comes once, as no speaker in a scene does.
    news = (
        "GREAT FIRE IN SOUTHWARK\n\nA fire broke out. I am told it spread.\n\n"
        "MURDER IN SOHO\n\nA man was found.\n\n"
        "LONDON. The ministers met. I understand they agreed.\n\n"
        "PARIS. The weather was fine.\n"
    )
    assert _speeches(news) == []
    notices = (
        "NOTE: Fill the kettle first.\n\nWARNING: I burned my hand on it.\n\n"
        "CAUTION: Unplug it.\n\nNOTE: Descale it monthly.\n"
    )
    assert _speeches(notices) == []


def test_long_spaced_line_no_cue() -> None:
    # A line with a long run of spaces once made the cue pattern backtrack
    # for minutes; it must simply be no cue.
    text = "AB" + " " * 2000 + "x\n\nAB\n\nSpeech.\n\nCD\n\nMore.\n"
    assert _speeches(text) == []


def test_capital_titles_are_no_cues() -> None:
    contents = "CONTENTS\n\nLOOMINGS\n\nTHE CARPET-BAG\n\nTHE SPOUTER-INN\n\nTHE END\n"
    assert _speeches(contents) == []
    chapters = "".join(
        f"{title}\n\nThe rain fell on the town.\n\nNobody came.\n\n"
        "The day was long.\n\nNight fell.\n\n"
        for title in ("LOOMINGS", "THE CARPET-BAG", "THE SPOUTER-INN")
    )
    assert _speeches(chapters) == []


def test_short_runs_are_no_script() -> None:
    two_cues = "DUTCH SAILOR\n\nGrand snoozing.\n\nFRENCH SAILOR\n\nHist, boys!\n"
    assert _speeches(two_cues) == []
    one_speaker = "\n\n".join(["PIP\n\nDon't know where it is."] * 3) + "\n"
    assert _speeches(one_speaker) == []


def test_marked_quotes_win_over_cues() -> None:
    text = FORECASTLE.replace("Don't know where it is.", '"Don\'t know," said Pip.')
    quotes = quote_texts(text)
    assert '"Don\'t know,"' in quotes
    assert "Grand snoozing" in quotes[0]


@pytest.fixture(scope="module")
def forecastle_result(tmp_path_factory) -> dict:
    engine: Engine = create_engine()
    result, _messages, _stats = run_job(
        engine,
        tmp_path_factory.mktemp("forecastle"),
        FORECASTLE.encode(),
        ("tokens", "entities", "quotes", "characters"),
        model="litbank",
    )
    return result


def _speaker_names(result: dict) -> list[str | None]:
    names = {c["character_id"]: c["name"] for c in result["characters"]}
    return [
        names[quote["speaker"]["character_id"]] if quote["speaker"] else None
        for quote in result["quotes"]
    ]


def test_cues_name_speakers(forecastle_result: dict) -> None:
    assert _speaker_names(forecastle_result) == [
        "DUTCH SAILOR", "FRENCH SAILOR", "Pip", "FRENCH SAILOR", "AZORE SAILOR", None
    ]


def test_script_i_is_speaker_not_narrator(forecastle_result: dict) -> None:
    rows = forecastle_result["entities"]
    speaker = {
        quote["quote_id"]: quote["speaker"]["character_id"]
        for quote in forecastle_result["quotes"]
        if quote["speaker"]
    }
    first_person = [row for row in rows if row["text"] == "I"]
    assert len(first_person) == 2
    assert first_person[0]["character_id"] == speaker[0]  # the Dutch sailor
    assert first_person[1]["character_id"] == speaker[4]  # the Azore sailor


def test_cue_pip_joins_named_pip(forecastle_result: dict) -> None:
    pips = {
        row["character_id"]
        for row in forecastle_result["entities"]
        if row["text"] in ("PIP", "Pip")
    }
    assert len(pips) == 1
    names = [c["name"] for c in forecastle_result["characters"]]
    assert "Sulky" not in names


def test_titles_speak_as_cues(tmp_path) -> None:
    text = (
        "KING. Dost thou call me fool, boy?\n"
        "QUEEN. Good Hamlet, cast thy nighted colour off.\n"
        "KING. I will.\n\n"
        "[_Exeunt Rosencrantz and Guildenstern._]\n"
    )
    result, _messages, _stats = run_job(
        create_engine(), tmp_path, text.encode(),
        ("tokens", "entities", "quotes", "characters"), model="litbank",
    )  # fmt: skip
    assert _speaker_names(result) == ["KING", "QUEEN", "KING"]
    texts = {row["text"] for row in result["entities"]}
    assert not any(text.startswith("Exeunt") for text in texts), texts
