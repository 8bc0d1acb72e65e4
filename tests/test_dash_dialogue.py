"""Speech set off by a dash at the start of its paragraph (``dash_dialogue``)."""

from __future__ import annotations

from tests.test_quotes import quote_texts

# Written for this project, in the manner of Joyce's dialogue.
DASH_DIALOGUE = """\
Old Kettle came down the stairs with a lamp.

— Up with you, Finn! Up, the pair of you!

— Away to bed! he said gruffly.

— Thanks, old man, Finn answered at last. That will do. Put out the lamp.

— Tell me, Kettle, Mr. Finn said softly.

— What now?
"""


def test_dash_paragraphs_are_speech_cut_at_tags() -> None:
    assert quote_texts(DASH_DIALOGUE) == [
        "— Up with you, Finn! Up, the pair of you!",
        "— Away to bed!",
        "— Thanks, old man,",
        "That will do. Put out the lamp.",
        "— Tell me, Kettle,",
        "— What now?",
    ]


def test_few_dash_paragraphs_stay_narration() -> None:
    text = (
        '"Come in," said Ann.\n\n"Thank you," said Tom.\n\n"Sit down."\n\n'
        "— and so the evening went, he said later.\n\n— or so they told me.\n\n"
        "— and then the lamps went out.\n"
    )
    assert quote_texts(text) == ['"Come in,"', '"Thank you,"', '"Sit down."']


def test_quote_marks_win_over_dashes() -> None:
    text = DASH_DIALOGUE + '\n"A real quote," said Ann.\n'
    quotes = quote_texts(text)
    assert '"A real quote,"' in quotes
    assert "— What now?" in quotes


def test_inverted_tags_and_long_clauses() -> None:
    opening = "Kettle came down.\n\n— Up with you!\n\n— Away to bed.\n\n— What now?\n\n"
    cases = {
        "— Come up, Finn! said Old Kettle.": ["— Come up, Finn!"],
        "— Why not? asked Finn. It is late.": ["— Why not?", "It is late."],
        "— You will! cried the old man. Now.": ["— You will!", "Now."],
        "— A coat, she said, and boots.": ["— A coat,", "and boots."],
        # A verb with a long clause after it, or "told", is speech, not a tag.
        "— Fine. We asked him twice and he refused.": [
            "— Fine. We asked him twice and he refused."
        ],
        "— No, he told me nothing.": ["— No, he told me nothing."],
    }
    for paragraph, expected in cases.items():
        assert quote_texts(opening + paragraph)[3:] == expected, paragraph


def test_list_paragraphs_are_not_dialogue() -> None:
    contents = "CONTENTS\n\n-- Chapter One: The Arrival\n\n-- Chapter Two: The Storm"
    assert quote_texts(contents + "\n\n-- Chapter Three: The Departure") == []
