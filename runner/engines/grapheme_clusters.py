"""Keep characters that display as one symbol in one token.

spaCy's English tokenizer splits an emoji sequence at each code point. The
family emoji (woman, zero-width joiner, woman, ...) becomes seven tokens, three
of them a bare U+200D. A waving hand with a skin tone, or a flag (two regional
indicators), becomes two tokens. The component here merges such pieces again.
It follows the parts of Unicode's grapheme cluster rules (UAX #29) that emoji
and combining marks need. A piece that starts with an extending character, or
follows a joiner, belongs to the token before it, and regional indicators pair.
"""

from __future__ import annotations

import re
import unicodedata

from spacy.language import Language
from spacy.tokens import Doc

COMPONENT = "join_grapheme_clusters"

ZERO_WIDTH_JOINER = "\u200d"
# Characters that never start a grapheme cluster: the joiner, variation
# selectors, emoji skin tone modifiers and tag characters (used in subdivision
# flags). Combining marks are found by their Unicode category.
_EXTENDERS = re.compile(
    "[\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)
_REGIONAL_INDICATOR = re.compile("^[\U0001f1e6-\U0001f1ff]+$")
# A quick test that lets plain text skip the per-token loop.
_MAY_NEED_JOIN = re.compile(
    "[\u0300-\u036f\u200d\ufe00-\ufe0f\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff"
    "\U000e0020-\U000e01ef]"
)


def _extends(char: str) -> bool:
    return bool(_EXTENDERS.match(char)) or unicodedata.category(char) in ("Mn", "Me")


def _joined_runs(doc: Doc) -> list[tuple[int, int]]:
    """Return ``(first, end)`` token ranges, of two or more tokens, to merge."""
    runs: list[tuple[int, int]] = []
    first = 0
    for token in doc[1:]:
        previous = doc[token.i - 1]
        touching = not previous.whitespace_
        joins = touching and (
            _extends(token.text[0])
            or previous.text.endswith(ZERO_WIDTH_JOINER)
            or _pairs_flag(doc, first, token.i)
        )
        if not joins:
            if token.i - first > 1:
                runs.append((first, token.i))
            first = token.i
    if len(doc) - first > 1:
        runs.append((first, len(doc)))
    return runs


def _pairs_flag(doc: Doc, first: int, index: int) -> bool:
    # Regional indicators join in pairs: the token completes a flag when the run
    # so far contains an odd number of them and nothing else.
    run = doc[first:index].text
    return (
        bool(_REGIONAL_INDICATOR.match(doc[index].text))
        and bool(_REGIONAL_INDICATOR.match(run))
        and len(run) % 2 == 1
    )


@Language.component(COMPONENT)
def join_grapheme_clusters(doc: Doc) -> Doc:
    """Merge tokens that split one grapheme cluster."""
    if not _MAY_NEED_JOIN.search(doc.text):
        return doc
    runs = _joined_runs(doc)
    if runs:
        with doc.retokenize() as retokenizer:
            for first, end in runs:
                retokenizer.merge(doc[first:end])
    return doc
