"""Keep the mentions of a document properly nested, at most four deep.

Mentions come from several sources (the tagger's spans, the name rules, the
pronouns from POS, the cues of a play), and each keeps its own spans from
crossing, but two sources can still cross ("John house river ... London"
against "London Mary" in a text without punctuation), and a run of titles
("Mr. Mr. Mr. ...") can nest without end. The result promises spans that
never cross and nest at most ``MAX_NESTING`` deep, as LitBank annotates them.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.analysis.entities import NOM, PRON, PROP, Mention

MAX_NESTING = 4

# Of two crossing mentions the one of the higher rank stays: names carry the
# characters, and a pronoun is one token that the parser rarely misplaces.
_RANK = {PROP: 2, PRON: 1, NOM: 0}


def nest_mentions(mentions: Sequence[Mention]) -> list[Mention]:
    """Return the mentions, sorted, without crossings or nesting past four.

    Of two crossing mentions the lower-ranked one is dropped (a noun phrase
    before a pronoun before a name), or the later one at equal rank. A
    mention that would sit inside ``MAX_NESTING`` others is dropped too.
    """
    ordered = sorted(mentions, key=lambda m: (m.start, -m.end))
    dropped: set[int] = set()
    # Indices into ``ordered`` of the mentions not dropped that contain the
    # current one, outermost first.
    open_spans: list[int] = []
    for index, mention in enumerate(ordered):
        while open_spans and ordered[open_spans[-1]].end < mention.start:
            open_spans.pop()
        crossed = False
        while open_spans and ordered[open_spans[-1]].end < mention.end:
            other = open_spans[-1]
            if _RANK.get(mention.kind, 0) > _RANK.get(ordered[other].kind, 0):
                dropped.add(other)
                open_spans.pop()
            else:
                crossed = True
                break
        if crossed or len(open_spans) >= MAX_NESTING:
            dropped.add(index)
            continue
        open_spans.append(index)
    nested = [m for index, m in enumerate(ordered) if index not in dropped]
    nested.sort(key=lambda m: (m.start, m.end))
    return nested
