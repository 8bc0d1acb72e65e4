"""Parse and validate a submitted book: its text and the options for its job."""

from __future__ import annotations

import codecs
import dataclasses
import functools
import itertools
import json
import re
import sys
import unicodedata
import urllib.parse
from typing import Any, Mapping

import orjson

from runner.analysis.layout import find_analysed_span, normalize_text
from runner.protocol import ALL_COMPONENTS, EngineSpec
from server.charsets import text_encoding
from server.errors import ApiError

MAX_BOOK_ID_CHARS = 256
# Names of the Unicode categories that a book_id may not contain: control
# characters, format characters such as the right-to-left override, and line and
# paragraph separators, which would reorder or split what an operator reads in
# the log.
BANNED_BOOK_ID_CATEGORIES = {
    "Cc": "control",
    "Cf": "invisible format",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}
_MISSING = object()
JSON_FIELDS = ("text", "book_id", "pipeline", "model")
QUERY_FIELDS = ("book_id", "pipeline", "model")

# BookNLP's own pipeline names, accepted so that its users can reuse their lists.
COMPONENT_ALIASES = {
    "entity": "entities",
    "quote": "quotes",
    "event": "events",
    "supersense": "supersenses",
    "coref": "characters",
    "token": "tokens",
}

# Runs of letters and digits, and each other symbol alone. spaCy splits English
# at hyphens, dashes and most punctuation too, so this count stays close to the
# engine's. It runs a little high on contractions ("don't" counts 3 where spaCy
# makes 2), which errs on the safe side for the limit. A text of one long
# hyphenated run ("a-a-a-...") is counted token by token, as the engine splits it.
_TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
# A lone surrogate is no character, so a text that contains one cannot be
# stored as UTF-8. Codecs such as utf-7 decode to one.
_SURROGATE = re.compile("[\ud800-\udfff]")
# A "%" in a query that is not followed by two hexadecimal digits.
_STRAY_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")
# The end of a JSON object key, which is a closing quote, optional white space and
# ":". Every key matches, and so does an escaped quote before a ":" in a string.
_KEY_END = re.compile(r'"[ \t\n\r]*:')


@dataclasses.dataclass(frozen=True)
class Submission:
    """A validated request for one job."""

    text: str
    book_id: str | None
    components: tuple[str, ...]
    model: str


def count_tokens(text: str) -> int:
    """Estimate the number of tokens the engine will produce for ``text``."""
    return sum(1 for _ in _TOKEN_PATTERN.finditer(text))


def parse_body(
    body: bytes,
    content_type: str,
    query: Mapping[str, str],
    engine: EngineSpec,
    charset: str | None = None,
) -> Submission:
    """Build a submission from a request body and query string.

    ``charset`` is the one named in the Content-Type header; the body is read
    as UTF-8 when there is none.

    Raises:
        ApiError: 400 for invalid text or options, 415 for another content type.
    """
    fields = check_query_options(content_type, query, engine)
    if content_type == "application/json":
        fields = _parse_json(_decode_text(body, charset))
        text = fields.get("text", _MISSING)
    else:
        text = _decode_text(body, charset)
    model = _check_model(fields.get("model"), engine)
    return Submission(
        text=_check_text(text),
        book_id=_check_book_id(fields.get("book_id")),
        model=model,
        components=_check_pipeline(
            fields.get("pipeline"), engine, model,
            from_query=content_type == "text/plain",
        ),
    )  # fmt: skip


def check_query_options(
    content_type: str, query: Mapping[str, str], engine: EngineSpec
) -> dict[str, str]:
    """Check the query's options of a submission, which need no body.

    A text/plain request carries its options in the query: each is checked
    here, and they are returned. A JSON request may have no query parameters.

    Raises:
        ApiError: 400 for an invalid option, 415 for another content type.
    """
    for name in set(query):
        count = len(query.getall(name)) if hasattr(query, "getall") else 1
        if count > 1:
            raise ApiError(
                400, "invalid_option",
                f"query parameter {name!r} is given {count} times; give it once",
            )  # fmt: skip
    if content_type == "application/json":
        if query:
            raise ApiError(
                400, "invalid_option",
                f"query parameters {sorted(query)} are not read with a JSON body; "
                "put the options in the JSON object",
            )  # fmt: skip
        return {}
    if content_type != "text/plain":
        raise ApiError(
            415, "unsupported_media_type",
            f"content type {content_type!r} is not accepted; send the book as "
            "text/plain (options in the query) or application/json",
        )  # fmt: skip
    unknown = sorted(set(query) - set(QUERY_FIELDS))
    if unknown:
        raise ApiError(
            400, "invalid_option",
            f"unknown query parameter {unknown[0]!r}; allowed: {list(QUERY_FIELDS)}",
        )  # fmt: skip
    fields = dict(query)
    model = _check_model(fields.get("model"), engine)
    _check_book_id(fields.get("book_id"))
    _check_pipeline(fields.get("pipeline"), engine, model, from_query=True)
    return fields


def check_query_encoding(raw_query: str) -> None:
    """Raise ApiError 400 when a query parameter is not percent-encoded UTF-8.

    ``raw_query`` is the query string as sent, still percent-encoded. aiohttp
    decodes it with yarl, which turns invalid UTF-8 into U+FFFD replacement
    characters, so the stored value would differ from the one sent.
    """
    for part in raw_query.split("&"):
        raw_name, _, raw_value = part.partition("=")
        name_error = _percent_decoding_error(raw_name)
        if name_error:
            raise ApiError(
                400, "invalid_option",
                f"query parameter name {raw_name[:60]!r} is not valid "
                f"percent-encoded UTF-8 ({name_error}); percent-encode the UTF-8 "
                "bytes of the name",
            )  # fmt: skip
        value_error = _percent_decoding_error(raw_value)
        if value_error:
            name = urllib.parse.unquote_plus(raw_name)
            raise ApiError(
                400, "invalid_field" if name in QUERY_FIELDS else "invalid_option",
                f"query parameter {name[:60]!r} has the value {raw_value[:60]!r}, "
                f"which is not valid percent-encoded UTF-8 ({value_error}); "
                "percent-encode the UTF-8 bytes of the value",
                field=name[:60],
            )  # fmt: skip


def _percent_decoding_error(raw: str) -> str | None:
    """Describe the first invalid escape or UTF-8 byte of ``raw``, if any.

    A "%" that does not start an escape of two hexadecimal digits is rejected
    (RFC 3986, section 2.1), rather than kept as literal text as Python's
    unquote keeps it, because the client more likely meant "%25".
    """
    stray = _STRAY_PERCENT.search(raw)
    if stray is not None:
        return (
            f"'%' at offset {stray.start()} does not start an escape of two "
            "hexadecimal digits; send a literal '%' as %25"
        )
    data = urllib.parse.unquote_to_bytes(raw.replace("+", " "))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"byte {data[exc.start]:#04x} at decoded offset {exc.start}"
    return None


def _parse_json(body: str) -> dict[str, Any]:
    # RFC 8259 lets a parser ignore a leading byte-order mark.
    body = body.removeprefix("\ufeff")
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400, "invalid_json",
            f"request body is not valid JSON ({exc}); send an object like "
            '{"text": "..."}',
        ) from None  # fmt: skip
    if not isinstance(fields, dict):
        raise ApiError(
            400, "invalid_json",
            f"request body is a JSON {_json_type(fields)}, not an object; send an "
            'object like {"text": "..."}',
        )  # fmt: skip
    _check_duplicate_keys(body, len(fields))
    unknown = sorted(set(fields) - set(JSON_FIELDS))
    if unknown:
        raise ApiError(
            400, "invalid_field",
            f"unknown field {unknown[0]!r}; allowed fields: {list(JSON_FIELDS)}",
            field=unknown[0],
        )  # fmt: skip
    return fields


def _check_duplicate_keys(body: str, field_count: int) -> None:
    """Raise ApiError 400 naming a key that ``body`` repeats in a JSON object.

    orjson keeps the last value of a repeated key, so a repeat would pass
    unseen. ``field_count`` is the number of keys in orjson's result. A body
    with no more matches of _KEY_END than that cannot repeat a key, so only
    other bodies are parsed again, with the standard library's json. A quote
    before a ":" inside the text also matches, and costs only that second parse.
    """
    key_ends = itertools.islice(_KEY_END.finditer(body), field_count + 1)
    if sum(1 for _ in key_ends) <= field_count:
        return
    try:
        json.loads(body, object_pairs_hook=_reject_repeated_keys)
    except RecursionError:
        # The json module raises this at a smaller nesting depth than orjson
        # accepts. Every field takes a string or a list of strings, so a body
        # nested this deep is rejected by the field checks anyway.
        return


def _reject_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            # A repeated key inside a nested object names no request field.
            extra = {"field": key} if key in JSON_FIELDS else {}
            raise ApiError(
                400, "invalid_json",
                f"key {key!r} appears more than once in a JSON object of the "
                "request body; send each key once",
                **extra,
            )  # fmt: skip
        seen.add(key)
    return dict(pairs)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _decode_text(body: bytes, charset: str | None) -> str:
    """Decode ``body`` with ``charset`` (UTF-8 when None)."""
    encoding = text_encoding(charset) if charset else "utf-8"
    if encoding == "utf-16" and not body.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        # RFC 2781: UTF-16 without a byte-order mark is big-endian, while
        # Python's codec would assume the machine's order.
        encoding = "utf-16-be"
    elif encoding == "utf-32" and not body.startswith(
        (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
    ):
        # The Unicode Standard's UTF-32 encoding scheme is big-endian too when
        # there is no byte-order mark.
        encoding = "utf-32-be"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding == "utf-8" else encoding
        raise ApiError(
            400, "invalid_utf8" if encoding == "utf-8" else "invalid_encoding",
            f"body is not valid {name}: byte {body[exc.start]:#04x} at offset "
            f"{exc.start}; convert the file to UTF-8 and submit it again, or "
            "name its encoding with charset= in the Content-Type header",
            field="text", offset=exc.start,
        ) from None  # fmt: skip
    except (UnicodeError, ValueError, IndexError) as exc:
        # text_encoding rejects the codecs known to raise these (punycode,
        # idna, undefined). This keeps another such codec a 400, not a 500.
        raise ApiError(
            400, "invalid_encoding",
            f"body could not be decoded as {encoding} ({exc}); convert the file "
            "to UTF-8 and submit it again with charset=utf-8",
            field="text",
        ) from None  # fmt: skip
    # Strict UTF-8, the default, rejects surrogates while decoding.
    surrogate = _SURROGATE.search(text) if encoding != "utf-8" else None
    if surrogate is not None:
        offset = surrogate.start()
        raise ApiError(
            400, "invalid_encoding",
            f"body decoded as {encoding} contains the lone surrogate "
            f"U+{ord(surrogate.group()):04X} at character offset {offset}, which "
            "is not a character; convert the file to UTF-8 and submit it again "
            "with charset=utf-8",
            field="text", offset=offset,
        )  # fmt: skip
    return text


def _check_text(text: Any) -> str:
    if text is _MISSING or text is None:
        state = "missing" if text is _MISSING else "null"
        raise ApiError(
            400, "missing_field",
            f"field 'text' is {state}; send the book's text as a string",
            field="text",
        )  # fmt: skip
    if not isinstance(text, str):
        raise ApiError(
            400, "invalid_field",
            f"field 'text' must be a string, got a JSON {_json_type(text)}",
            field="text",
        )  # fmt: skip
    # A byte-order mark is not part of the book, so offsets index the text after it.
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ApiError(
            400, "empty_text",
            "text is empty or only white space; send the book's text as the "
            "text/plain body or in the JSON field 'text'",
            field="text",
        )  # fmt: skip
    nul = text.find("\x00")
    if nul >= 0:
        raise ApiError(
            400, "invalid_text",
            f"text contains a NUL character at offset {nul}. Plain text has none, "
            "so the file is probably binary (such as a PDF or an e-book) or "
            "UTF-16 sent as UTF-8. Send plain text instead: convert the file to "
            "UTF-8, name its encoding with charset= in the Content-Type header, "
            "or remove the NUL characters",
            field="text", offset=nul,
        )  # fmt: skip
    return text


def check_analysed_text(text: str) -> None:
    """Raise ApiError 400 empty_text when no part of ``text`` would be analysed.

    That is a text of only white space and invisible format characters (Unicode
    category Cf, such as U+200B ZERO WIDTH SPACE), or one whose Project Gutenberg
    marker lines enclose only those. The engines analyse only the part between
    the markers, found by ``runner.analysis.layout.find_analysed_span``. This
    scans the whole text, so call it off the event loop.
    """
    visible = _visible_char_pattern()
    if visible.search(text) is None:
        invisible = next((char for char in text if not char.isspace()), None)
        example = f" such as U+{ord(invisible):04X}" if invisible else ""
        raise ApiError(
            400, "empty_text",
            "text contains only white space and invisible format characters"
            f"{example}; submit the book's text",
            field="text",
        )  # fmt: skip
    # Every marker line contains "***", so a text without it has no markers.
    if "***" not in text:
        return
    span = find_analysed_span(normalize_text(text))
    if not span.boilerplate_removed or visible.search(text, span.start, span.end):
        return
    # The START marker line ends the boilerplate before the span, and the END
    # marker line begins the boilerplate after it.
    if span.start > 0 and span.end < len(text):
        where = "between its Project Gutenberg START and END marker lines"
    elif span.start > 0:
        where = "after its Project Gutenberg START marker line"
    else:
        where = "before its Project Gutenberg END marker line"
    raise ApiError(
        400, "empty_text",
        f"the part of the text {where} (offsets {span.start} to {span.end}) is "
        "empty or only white space, and only that part is analysed; put the "
        "book's text there, or submit the book without the marker lines",
        field="text", start=span.start, end=span.end,
    )  # fmt: skip


@functools.cache
def _visible_char_pattern() -> re.Pattern[str]:
    """Return a pattern for a character that is neither white space nor Cf."""
    ranges = "".join(
        f"\\U{first:08x}-\\U{last:08x}"
        for first, last in category_ranges(frozenset({"Cf"}))
    )
    return re.compile(f"[^\\s{ranges}]")


def _check_book_id(book_id: Any) -> str | None:
    if book_id is None:
        return None
    if not isinstance(book_id, str):
        raise ApiError(
            400, "invalid_field",
            f"field 'book_id' must be a string, got a JSON {_json_type(book_id)}",
            field="book_id",
        )  # fmt: skip
    if len(book_id) > MAX_BOOK_ID_CHARS:
        raise ApiError(
            400, "invalid_field",
            f"book_id is {len(book_id)} characters long; the limit is "
            f"{MAX_BOOK_ID_CHARS}",
            field="book_id",
        )  # fmt: skip
    for offset, char in enumerate(book_id):
        kind = BANNED_BOOK_ID_CATEGORIES.get(unicodedata.category(char))
        if kind:
            raise ApiError(
                400, "invalid_field",
                f"book_id contains the {kind} character U+{ord(char):04X} at "
                f"offset {offset}; use printable text",
                field="book_id",
            )  # fmt: skip
    return book_id


def banned_book_id_ranges() -> tuple[tuple[int, int], ...]:
    """Return the code point ranges (inclusive) that a book_id may not contain."""
    return category_ranges(frozenset(BANNED_BOOK_ID_CATEGORIES))


@functools.cache
def category_ranges(categories: frozenset[str]) -> tuple[tuple[int, int], ...]:
    """Return the code point ranges (inclusive) of the Unicode ``categories``.

    The first call for a set tests every code point and is slow, so the result
    is cached.
    """
    ranges: list[tuple[int, int]] = []
    for point in range(sys.maxunicode + 1):
        if unicodedata.category(chr(point)) not in categories:
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return tuple(ranges)


def _check_pipeline(
    pipeline: Any, engine: EngineSpec, model: str, from_query: bool
) -> tuple[str, ...]:
    """Return the components to compute, in request order without repeats.

    A JSON body gives ``pipeline`` as a list of names, and a text/plain
    request's query gives it as a comma-separated string.
    """
    provided = engine.components_for(model)
    if pipeline is None:
        return provided
    if isinstance(pipeline, str) and from_query:
        pipeline = _split_pipeline(pipeline)
    if not isinstance(pipeline, list):
        raise ApiError(
            400, "invalid_field",
            "field 'pipeline' must be a JSON list of component names, such as "
            f'["tokens", "entities"], got a JSON {_json_type(pipeline)}; a '
            "comma-separated string is read only from the query of a text/plain "
            "request",
            field="pipeline",
        )  # fmt: skip
    for position, name in enumerate(pipeline, start=1):
        if not isinstance(name, str):
            raise ApiError(
                400, "invalid_field",
                f"field 'pipeline' must list component names as strings, got a "
                f"JSON {_json_type(name)} at position {position}",
                field="pipeline",
            )  # fmt: skip
    if not pipeline:
        # An empty list is rejected rather than read as "all components", because
        # it is more likely a client bug than a request for everything.
        raise ApiError(
            400, "invalid_field",
            f"'pipeline' is empty; name at least one component from "
            f"{list(provided)}, or leave 'pipeline' out to compute all of them",
            field="pipeline",
        )  # fmt: skip
    chosen: list[str] = []
    for name in pipeline:
        component = COMPONENT_ALIASES.get(name, name)
        if component not in ALL_COMPONENTS:
            raise ApiError(
                400, "invalid_field",
                f"unknown pipeline component {name!r}; allowed: "
                f"{list(engine.components)}",
                field="pipeline",
            )  # fmt: skip
        if component not in engine.components:
            raise ApiError(
                400, "invalid_field",
                f"pipeline component {name!r} is not provided by this server's "
                f"engine; it provides {list(engine.components)}",
                field="pipeline",
            )  # fmt: skip
        if component not in provided:
            needs = [m for m in engine.models if component in engine.components_for(m)]
            raise ApiError(
                400, "invalid_field",
                f"pipeline component {name!r} is not computed by model {model!r}; "
                f"choose model {needs[0]!r} or drop {name!r} (model {model!r} "
                f"provides {list(provided)})",
                field="pipeline",
            )  # fmt: skip
        if component not in chosen:
            chosen.append(component)
    for component, needed, reason in engine.requires:
        missing = [name for name in needed if name not in chosen]
        if component in chosen and missing:
            raise ApiError(
                400, "invalid_field",
                f"pipeline component {component!r} needs {missing} with this "
                f"server's engine ({reason}); add {missing} to the pipeline",
                field="pipeline",
            )  # fmt: skip
    return tuple(chosen)


def _split_pipeline(pipeline: str) -> list[str]:
    """Split the query's comma-separated pipeline, stripping white space.

    A value of only commas and white space gives an empty list, which the
    caller rejects as an empty pipeline.
    """
    names = [part.strip() for part in pipeline.split(",")]
    if not any(names):
        return []
    if "" in names:
        position = names.index("") + 1
        raise ApiError(
            400, "invalid_field",
            f"query parameter 'pipeline' ({pipeline[:100]!r}) has an empty "
            f"component name at position {position}; separate the names with "
            "single commas, as in 'tokens,entities'",
            field="pipeline",
        )  # fmt: skip
    return names


def _check_model(model: Any, engine: EngineSpec) -> str:
    if model is None:
        return engine.default_model
    if not isinstance(model, str) or model not in engine.models:
        raise ApiError(
            400, "invalid_field",
            f"unknown model {model!r}; allowed: {list(engine.models)}",
            field="model",
        )  # fmt: skip
    return model
