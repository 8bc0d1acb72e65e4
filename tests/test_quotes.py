"""Unit tests of runner.analysis.quotes and runner.analysis.sentences."""

from __future__ import annotations

import pytest

from runner.analysis.layout import Paragraph, normalize_text, split_paragraphs
from runner.analysis.quotes import DOUBLE, SINGLE, choose_style, find_quotes
from runner.analysis.sentences import plan_sentence_starts


def quote_texts(text: str, style: str | None = None) -> list[str]:
    normalized = normalize_text(text)
    paragraphs = split_paragraphs(normalized, 0, len(normalized))
    return [
        normalized[q.start : q.end] for q in find_quotes(normalized, paragraphs, style)
    ]


def test_style_double_by_default() -> None:
    assert choose_style("No quotes at all.") == DOUBLE
    assert choose_style("“Hi,” she said. ‘Nested’ once.") == DOUBLE


def test_style_single_when_outvoted() -> None:
    text = "‘Yes,’ he said. ‘No,’ she said. 'Maybe,' they said. “Once.”"
    assert choose_style(text) == SINGLE


def test_style_ignores_capital_elisions() -> None:
    assert choose_style("'Tis true, \"he said\", 'Twas so.") == DOUBLE


def test_straight_quotes_pair_up() -> None:
    text = '"Who left the gate open?" demanded Mr. Okafor. "Not me!"'
    assert quote_texts(text) == ['"Who left the gate open?"', '"Not me!"']


def test_curly_quotes_pair_up() -> None:
    text = "“You’re early,” Tobias said. “Am I?”"
    assert quote_texts(text) == ["“You’re early,”", "“Am I?”"]


def test_guillemets_pair_up_both_ways() -> None:
    french = "«I shall not go,» said Anna. « Not tonight. »"
    assert quote_texts(french) == ["«I shall not go,»", "« Not tonight. »"]
    german = "»Then stay,« answered the old man. »We shall see.«"
    assert quote_texts(german) == ["»Then stay,«", "»We shall see.«"]
    # Nested single marks stay inside, as with curly marks.
    assert quote_texts("«He said ‘no’ twice.»") == ["«He said ‘no’ twice.»"]


def test_low_opening_mark_pairs_with_high_closing() -> None:
    text = "„Come along“, said Fritz. „It will be fun.“ He left."
    assert quote_texts(text) == ["„Come along“", "„It will be fun.“"]
    assert choose_style("„Ja“, sagte er. ‚Nein‘") == DOUBLE
    # After a dash, “ still closes: it never opens in this family.
    broken = "„I do not know–“ He broke off and went out. It rained."
    assert quote_texts(broken) == ["„I do not know–“"]


@pytest.mark.parametrize(
    "text",
    [
        '"Click File » Save and close it," said Tom.',
        '"She said «non» twice and left," Tom explained.',
        "“The sign said »Entrance« in red,” Tom explained.",
    ],
)
def test_guillemets_inside_english_quotes_stay_text(text: str) -> None:
    assert quote_texts(text) == [text[: text.index(",") + 2].rstrip()]


def test_family_vote_skips_nested_and_closing_marks() -> None:
    french = "« Il a dit “non” », dit Anne.\n\n« Et “oui” ? » dit Paul.\n\n« Non. »"
    assert quote_texts(french) == ["« Il a dit “non” »", "« Et “oui” ? »", "« Non. »"]
    german = "„Ich weiß nicht … “ sagte Fritz. „Warum? “ fragte Anna."
    assert quote_texts(german) == ["„Ich weiß nicht … “", "„Warum? “"]
    after_dash = "He spoke.—“Stop!” he cried.(“Why?”) He cited »Angst« and »Zeit«."
    assert quote_texts(after_dash) == ["“Stop!”", "“Why?”"]


def test_english_quotes_outvote_a_few_other_marks() -> None:
    nav = "« Previous | Next »\n\n“Hello,” said Tom.\n\n« Previous | Next »\n\n"
    text = nav + "“Goodbye,” said Anna.\n\n« Previous | Next »"
    assert quote_texts(text) == ["“Hello,”", "“Goodbye,”"]
    cited = "He wrote „Hallo“ there. “What is it?” asked Tom. „Tag“ is another."
    quotes = quote_texts(cited)
    assert "“What is it?”" in quotes
    assert not [quote for quote in quotes if "there" in quote or "another" in quote]


def test_arrows_and_bullets_are_no_quotes() -> None:
    assert quote_texts("Tom opened Settings » Privacy » Cookies and frowned.") == []
    bullets = 'Tom wrote:\n\n» eggs\n\n» milk and bread.\n\n"Got it," said Mary.'
    assert quote_texts(bullets) == ['"Got it,"']


def test_french_quotes_nest_english_marks_and_span_paragraphs() -> None:
    nested = "« He told me “no” », said Marie. « Yes. » « And you? » « Never. »"
    assert quote_texts(nested)[0] == "« He told me “no” »"
    speech = "« I came yesterday, » said Paul. « And more.\n\n« I will come. »"
    assert quote_texts(speech) == [
        "« I came yesterday, »",
        "« And more.\n\n« I will come. »",
    ]


def test_short_quote_after_word_is_a_term() -> None:
    text = "It was “form” in the “Quartier Latin,” then. “Come in,” said Tom."
    assert quote_texts(text) == ["“Come in,”"]
    assert quote_texts("He whispered “Run” and fled.") == ["“Run”"]
    # Speech after other words: a whole sentence, or a tag right after it.
    speech = "He told her “Go home.” She paused and “Perhaps,” she said."
    assert quote_texts(speech) == ["“Go home.”", "“Perhaps,”"]
    inverted = "She paused and “Perhaps,” said the old man. He kept saying “yes”."
    assert quote_texts(inverted) == ["“Perhaps,”", "“yes”"]
    # A speech verb after the quote without a speaker is no tag.
    terms = 'The word "love" says it all. Her "friends" told the police.'
    assert quote_texts(terms) == []
    # Longer than a term: speech, even after a word.
    long = "She said nothing, just “I will not go there today.”"
    assert quote_texts(long) == ["“I will not go there today.”"]


def test_single_marked_term_closes_before_lower_case() -> None:
    # Charles Dickens, "David Copperfield" (1850), public domain.
    text = (
        "She scorned mariners, who had the presumption to go ‘meandering’ about "
        "the world. She always returned, ‘Let us have no meandering.’"
    )
    assert quote_texts(text, SINGLE) == ["‘Let us have no meandering.’"]
    # After a speech verb the same marks are speech with an apostrophe inside.
    speech = "He said ‘I saw the girls’ path.’ Then he left."
    assert quote_texts(speech, SINGLE) == ["‘I saw the girls’ path.’"]


def test_elision_before_closing_mark() -> None:
    text = "'I'm goin',' he added. 'Now.'"
    assert quote_texts(text, SINGLE) == ["'I'm goin','", "'Now.'"]
    assert quote_texts("‘I’m goin’,’ he added.", SINGLE) == ["‘I’m goin’,’"]


def test_speech_may_open_with_tis() -> None:
    text = "Tom looked at the sea. 'Tis a cold morning,' said Tom. 'We sail.'"
    assert quote_texts(text, SINGLE) == ["'Tis a cold morning,'", "'We sail.'"]
    assert quote_texts("'Tis true, I don't doubt it,' she said.", SINGLE) == [
        "'Tis true, I don't doubt it,'"
    ]
    # Narration that opens with the elision stays narration.
    narration = "'Twas a dark night. He said, 'Go home.'"
    assert quote_texts(narration, SINGLE) == ["'Go home.'"]
    assert quote_texts("He went home. 'Twas a dark night.", SINGLE) == []


def test_opening_mark_as_elision_is_apostrophe() -> None:
    # Charles Dickens, "David Copperfield" (1850), public domain.
    text = (
        "‘He’s bound upon a voyage, take my wured for ‘t, unless he finds "
        "what he’s a seeking of.’ ‘Tell ‘em so.’"
    )
    assert quote_texts(text, SINGLE) == [
        "‘He’s bound upon a voyage, take my wured for ‘t, unless he finds what "
        "he’s a seeking of.’",
        "‘Tell ‘em so.’",
    ]


def test_unclosed_quote_ends_at_line() -> None:
    text = '"Not yet," said her uncle. "The wind turned at noon.\nPetra went down.'
    assert quote_texts(text) == ['"Not yet,"', '"The wind turned at noon.']


def test_unclosed_quote_within_paragraph() -> None:
    # Blank-line mode: the unclosed quote stops at its first sentence-final line.
    text = 'Intro.\n\n"It turned at noon.\nShe left him there\nand went home.'
    assert quote_texts(text) == ['"It turned at noon.']


def test_unclosed_quote_before_next_opening() -> None:
    text = "“It was late, he said “Come here,” and left."
    assert quote_texts(text) == ["“It was late, he said", "“Come here,”"]


def test_quote_continues_next_paragraph() -> None:
    text = (
        "Intro.\n\n“I went to the town,\nand it was empty.\n\n"
        "“Then I came home.”\n\nShe nodded."
    )
    normalized = normalize_text(text)
    paragraphs = split_paragraphs(normalized, 0, len(normalized))
    quotes = find_quotes(normalized, paragraphs)
    assert len(quotes) == 1
    assert normalized[quotes[0].start : quotes[0].end].endswith("Then I came home.”")
    assert len(quotes[0].open_marks) == 2


def test_paragraph_without_reopening_ends() -> None:
    text = "Intro.\n\n“I went to the town.\n\nShe nodded.\n\n“Yes.”"
    assert quote_texts(text) == ["“I went to the town.", "“Yes.”"]


def test_nested_single_quotes_stay_inside() -> None:
    text = "“He said, ‘Mind the ice, it’s thin as paper.’” Her sister laughed."
    assert quote_texts(text) == ["“He said, ‘Mind the ice, it’s thin as paper.’”"]


def test_interrupted_speech_two_quotes() -> None:
    text = "“Tobias, are you”—she pushed open the study door—“hiding from me again?”"
    assert quote_texts(text) == ["“Tobias, are you”", "“hiding from me again?”"]


def test_straight_quotes_beside_dashes() -> None:
    text = '"Tobias, are you"—she pushed the door—"hiding again?"'
    assert quote_texts(text) == ['"Tobias, are you"', '"hiding again?"']


def test_dashes_never_quote_marks() -> None:
    text = "The house was quiet—too quiet—when Ada came home.\n\n“Is anyone here?”"
    assert quote_texts(text) == ["“Is anyone here?”"]


def test_single_style_skips_apostrophes() -> None:
    text = (
        "‘The girls’ path is goin’ to flood,’ said Ann. ‘’Tis late, and it’s cold.’"
        " They passed the Harpers’ gate, and ’twas dark."
    )
    assert quote_texts(text, SINGLE) == [
        "‘The girls’ path is goin’ to flood,’",
        "‘’Tis late, and it’s cold.’",
    ]


def test_straight_single_quote_resumes_after_tag() -> None:
    # A lower-case word after the second mark, as after the elision of "'twas".
    text = (
        "'Then,' replied Charlotte, 'he asked me on Tuesday, and I said yes.'\n\n"
        "'Well,' said Mr. Dick, as he threaded the\nneedle,\n"
        "'my compliments to her.'\n\n"
        "'No!' he cried--'it's a mad world.'"
    )
    assert quote_texts(text, SINGLE) == [
        "'Then,'",
        "'he asked me on Tuesday, and I said yes.'",
        "'Well,'",
        "'my compliments to her.'",
        "'No!'",
        "'it's a mad world.'",
    ]


def test_straight_elision_after_narration_stays() -> None:
    # No quote closes before the first elision, and "'em" is a known elision.
    text = "They sat down, 'twas late. 'Come in,' she said, 'em all."
    assert quote_texts(text, SINGLE) == ["'Come in,'"]


def test_dialect_elision_after_tag_stays_apostrophe() -> None:
    # Neither "'cause" nor an opening mark without a close later in the
    # paragraph resumes the quote, so the narration is not swallowed.
    text = (
        "'Coming,' said Sam, 'cause he knew the way. He ran.\n\n"
        "'All right,' said Sam, and he rolled over, 'alf asleep already.\n\n"
        "'Good lad,' said his mother."
    )
    assert quote_texts(text, SINGLE) == ["'Coming,'", "'All right,'", "'Good lad,'"]


def test_elided_year_opens_no_quote() -> None:
    text = "He came home in '49.\n\n'Come here,' said Mary."
    assert choose_style(text) == SINGLE
    assert quote_texts(text) == ["'Come here,'"]


@pytest.mark.parametrize("elision", ["'49", "'90s", "’49", "’90s", "‘49", "‘90s", "'6"])
def test_elided_numbers_never_quote_marks(elision: str) -> None:
    text = (
        f"They left in {elision}, Ann said.\n\n"
        f"'Back in {elision},' said Mary, 'we had {elision} and more.'\n\n"
        f"{elision} was cold. 'Come in,' she said."
    )
    assert quote_texts(text, SINGLE) == [
        f"'Back in {elision},'",
        f"'we had {elision} and more.'",
        "'Come in,'",
    ]


def test_curly_mark_before_long_number_opens() -> None:
    text = "‘1984 was cold,’ said Ann."
    assert quote_texts(text, SINGLE) == ["‘1984 was cold,’"]


def test_style_ignores_elided_years() -> None:
    text = "In ‘49 and ‘52 and ‘61 they came. “Hello,” she said."
    assert choose_style(text) == DOUBLE


def test_double_style_ignores_apostrophes() -> None:
    text = "The girls’ path. “It’s the Harpers’ gate,” she said. ’Twas dark."
    assert quote_texts(text) == ["“It’s the Harpers’ gate,”"]


def test_misdirected_curly_mark_closes() -> None:
    text = "“Come here“ she said."
    assert quote_texts(text) == ["“Come here“"]


def test_punctuation_only_quote_dropped() -> None:
    assert quote_texts('He wrote "" and "?" twice.') == []


def test_quotes_skip_heading_paragraphs() -> None:
    normalized = 'CHAPTER I\n\n"Hello," she said.'
    paragraphs = [Paragraph(0, 9, heading=True), Paragraph(11, len(normalized))]
    quotes = find_quotes(normalized, paragraphs)
    assert [normalized[q.start : q.end] for q in quotes] == ['"Hello,"']


def test_sentence_plan_heading_one_sentence() -> None:
    plan = plan_sentence_starts(["CHAPTER", "I", "."], [], [], heading=True)
    assert plan == [True, False, False]


def test_sentence_plan_inverted_tag() -> None:
    words = ['"', "Who", "left", "?", '"', "demanded", "Mr.", "Okafor", "."]
    plan = plan_sentence_starts(words, open_marks=[0], close_marks=[4])
    assert plan[0] is True
    assert plan[1] is False
    assert plan[4] is False
    assert plan[5] is False


def test_sentence_plan_quote_after_period() -> None:
    words = ["said", "Tunde", ".", '"', "I", "came", "."]
    plan = plan_sentence_starts(words, open_marks=[3], close_marks=[])
    assert plan[3] is True
    assert plan[4] is False


def test_sentence_plan_quote_after_dash() -> None:
    words = ["door", "—", "“", "hiding", "?", "”"]
    plan = plan_sentence_starts(words, open_marks=[2], close_marks=[5])
    assert plan[2] is False
    assert plan[3] is False
    assert plan[5] is False


@pytest.mark.parametrize("dash", ["--", "----", "―", "‒", "⸺", "⸻"])
def test_sentence_plan_quote_after_any_dash(dash: str) -> None:
    words = ["door", dash, "“", "hiding", "?", "”"]
    plan = plan_sentence_starts(words, open_marks=[2], close_marks=[5])
    assert plan[2] is False
    assert plan[3] is False


@pytest.mark.parametrize("dash", ["----", "―", "⸺"])
def test_sentence_plan_after_dash_close_joins(dash: str) -> None:
    words = ["“", "If", "you", dash, "”", "Tobias", "said", "."]
    plan = plan_sentence_starts(words, open_marks=[0], close_marks=[4])
    assert plan[5] is False


def test_sentence_plan_beat_left_to_parser() -> None:
    words = ['"', "Then", "who", "?", '"', "Mr.", "Okafor", "looked", "."]
    plan = plan_sentence_starts(words, open_marks=[0], close_marks=[4])
    assert plan[5] is None


def test_sentence_plan_after_comma_joins() -> None:
    words = ["“", "You", "’re", "early", ",", "”", "Tobias", "said", "."]
    plan = plan_sentence_starts(words, open_marks=[0], close_marks=[5])
    assert plan[6] is False


def test_sentence_plan_closed_then_open() -> None:
    words = ['"', "Hi", ".", '"', '"', "Bye", ".", '"']
    plan = plan_sentence_starts(words, open_marks=[0, 4], close_marks=[3, 7])
    assert plan[3] is False
    assert plan[4] is True
    assert plan[5] is False


def test_third_level_double_marks_nest() -> None:
    text = "“Mary said ‘John said “yes” loudly’ yesterday,” said Anna.\n"
    assert quote_texts(text) == [
        "“Mary said ‘John said “yes” loudly’ yesterday,”"
    ]


def test_unclosed_quote_ends_at_next_opening() -> None:
    # With no single quote open, a “ inside an open quote means the quote
    # before it was never closed.
    text = "“Hello, he said. “Goodbye,” she said.\n"
    assert quote_texts(text) == ["“Hello, he said.", "“Goodbye,”"]
