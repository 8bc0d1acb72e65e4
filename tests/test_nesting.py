"""Mentions never cross and nest at most four deep (``nest_mentions``)."""

from __future__ import annotations

from runner.analysis.entities import NOM, PER, PRON, PROP, Mention
from runner.analysis.nesting import MAX_NESTING, nest_mentions
from runner.engines.spacy_engine import create_engine
from tests.test_spacy_engine import run_job


def _mention(start: int, end: int, kind: str, category: str = PER) -> Mention:
    return Mention(start, end, category, kind, end)


def _spans(mentions: list[Mention]) -> list[tuple[int, int]]:
    return [(m.start, m.end) for m in mentions]


def _max_depth(spans: list[tuple[int, int]]) -> int:
    open_spans: list[tuple[int, int]] = []
    deepest = 0
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        while open_spans and open_spans[-1][1] < start:
            open_spans.pop()
        open_spans.append((start, end))
        deepest = max(deepest, len(open_spans))
    return deepest


def _crossings(spans: list[tuple[int, int]]) -> list[tuple[tuple[int, int], ...]]:
    return [(a, b) for a in spans for b in spans if a[0] < b[0] <= a[1] < b[1]]


def test_name_wins_over_crossing_phrase() -> None:
    phrase = _mention(69, 75, NOM, "GPE")  # "John house river ... London"
    name = _mention(75, 76, PROP)  # "London Mary"
    inner = _mention(69, 69, PROP)  # "John", inside the phrase
    result = nest_mentions([phrase, name, inner])
    assert _spans(result) == [(69, 69), (75, 76)]


def test_earlier_wins_at_equal_rank() -> None:
    first = _mention(0, 3, NOM)
    second = _mention(2, 5, NOM)
    assert _spans(nest_mentions([second, first])) == [(0, 3)]


def test_pronoun_wins_over_phrase() -> None:
    phrase = _mention(0, 2, NOM)
    pronoun = _mention(2, 2, PRON)
    crossing = _mention(1, 4, NOM)
    result = nest_mentions([phrase, pronoun, crossing])
    assert _spans(result) == [(0, 2), (2, 2)]


def test_nesting_stops_at_four() -> None:
    # "Mr. Mr. Mr. ... Smith": every span from a title to the name.
    stacked = [_mention(start, 9, PROP) for start in range(10)]
    result = nest_mentions(stacked)
    assert len(result) == MAX_NESTING
    assert _spans(result) == [(0, 9), (1, 9), (2, 9), (3, 9)]


def test_nested_and_apart_result() -> None:
    mentions = [
        _mention(0, 1, NOM), _mention(0, 0, PRON), _mention(3, 3, PROP),
        _mention(5, 8, NOM), _mention(5, 6, NOM), _mention(8, 8, PROP),
    ]  # fmt: skip
    result = nest_mentions(mentions)
    assert sorted(_spans(result)) == sorted(_spans(mentions))


def test_engine_result_nested(tmp_path) -> None:
    text = "Mr. " * 30 + "Smith came in. " + (
        "John house river man woman river London Mary walked and the man "
        "from Rome Peter had sent Jane a letter to Paris Tom "
    ) * 3 + "\n"
    result, _messages, _stats = run_job(
        create_engine(), tmp_path, text.encode(), ("tokens", "entities"),
        model="litbank",
    )  # fmt: skip
    spans = [(e["start_token"], e["end_token"]) for e in result["entities"]]
    assert spans
    assert _crossings(spans) == []
    assert _max_depth(spans) <= MAX_NESTING
