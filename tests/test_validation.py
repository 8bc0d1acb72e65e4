"""Bad input gets a 4xx JSON error that names the problem, and nothing is queued."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from yarl import URL

from tests.conftest import ClientFactory, submit_text, wait_status

JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}

BAD_REQUESTS: list[tuple[str, bytes, dict[str, str], Any, int, str, str]] = [
    # (case, body, headers, query, status, code, words in the message)
    ("empty json text", b'{"text": ""}', JSON, {}, 400, "empty_text", "empty"),
    ("blank text", b"  \n\t ", TEXT, {}, 400, "empty_text", "white space"),
    ("missing text", b'{"book_id": "x"}', JSON, {}, 400, "missing_field", "'text'"),
    ("text not string", b'{"text": 42}', JSON, {}, 400, "invalid_field",
     "got a JSON number"),
    ("book id object", b'{"text": "a", "book_id": {}}', JSON, {}, 400,
     "invalid_field", "got a JSON object"),
    ("punycode charset", b"hello world", {"Content-Type": "text/plain; charset=punycode"},
     {}, 400, "invalid_charset", "'punycode'"),
    ("book id line separator", '{"text": "a", "book_id": "a\u2028b"}'.encode(), JSON,
     {}, 400, "invalid_field", "U+2028"),
    ("null text", b'{"text": null}', JSON, {}, 400, "missing_field", "is null"),
    ("body not object", b'["text"]', JSON, {}, 400, "invalid_json", "JSON array"),
    ("body is null", b"null", JSON, {}, 400, "invalid_json", "JSON null"),
    ("invalid utf-8 in json", b'{"text": "caf\xe9"}', JSON, {}, 400, "invalid_utf8",
     "offset 13"),
    ("truncated json", b'{"text": "abc', JSON, {}, 400, "invalid_json", "not valid"),
    ("extra field", b'{"text": "a", "colour": 1}', JSON, {}, 400, "invalid_field",
     "'colour'"),
    ("invalid utf-8", b"caf\xe9 au lait", TEXT, {}, 400, "invalid_utf8", "offset 3"),
    ("nul byte", b"abc\x00def", TEXT, {}, 400, "invalid_text", "offset 3"),
    ("unknown component", b'{"text": "a", "pipeline": ["corref"]}', JSON, {}, 400,
     "invalid_field", "'corref'"),
    ("component not provided", b"a", TEXT, {"pipeline": "events"}, 400,
     "invalid_field", "not provided"),
    ("empty pipeline", b'{"text": "a", "pipeline": []}', JSON, {}, 400,
     "invalid_field", "empty"),
    ("pipeline not list", b'{"text": "a", "pipeline": 3}', JSON, {}, 400,
     "invalid_field", "list"),
    ("unknown model", b'{"text": "a", "model": "huge"}', JSON, {}, 400,
     "invalid_field", "'huge'"),
    ("book id not string", b'{"text": "a", "book_id": []}', JSON, {}, 400,
     "invalid_field", "book_id"),
    ("huge book id", b'{"text": "a", "book_id": "' + b"x" * 300 + b'"}', JSON, {},
     400, "invalid_field", "300 characters"),
    ("unknown query option", b"a", TEXT, {"colour": "red"}, 400, "invalid_option",
     "'colour'"),
    ("query with json", b'{"text": "a"}', JSON, {"model": "fast"}, 400,
     "invalid_option", "JSON object"),
    ("unknown charset", b"a", {"Content-Type": "text/plain; charset=klingon"}, {},
     400, "invalid_charset", "'klingon'"),
    ("codec not a charset", b"YQ==", {"Content-Type": "text/plain; charset=base64"},
     {}, 400, "invalid_charset", "'base64'"),
    ("invalid utf-16", b"abc", {"Content-Type": "text/plain; charset=utf-16"}, {},
     400, "invalid_encoding", "offset 2"),
    ("bidi book id", '{"text": "a", "book_id": "\u202eevil"}'.encode(), JSON, {},
     400, "invalid_field", "U+202E"),
    ("repeated query option", b"a", TEXT, [("model", "fast"), ("model", "fast")],
     400, "invalid_option", "2 times"),
    ("corrupt deflate", b"zzzzzz", {**TEXT, "Content-Encoding": "deflate"}, {}, 400,
     "invalid_body", "deflate"),
    ("corrupt gzip", b"plain text", {**TEXT, "Content-Encoding": "gzip"}, {}, 400,
     "invalid_body", "not valid gzip"),
    ("brotli", b"text", {**TEXT, "Content-Encoding": "br"}, {}, 415,
     "unsupported_content_encoding", "'br'"),
    ("wrong content type", b"<xml/>", {"Content-Type": "application/xml"}, {}, 415,
     "unsupported_media_type", "application/xml"),
    ("utf-7 lone surrogate", b"Tom +2AA- met",
     {"Content-Type": "text/plain; charset=utf-7"}, {"model": "fast"}, 400,
     "invalid_encoding", "U+D800 at character offset 4"),

    ("only format characters", '{"text": "\u200b\u200b\u200f"}'.encode(), JSON,
     {}, 400, "empty_text", "invisible format characters such as U+200B"),
    ("format characters and spaces", "\u200b \ufeff\n\u2060".encode(), TEXT, {},
     400, "empty_text", "U+200B"),
    ("empty name in pipeline", b"a", TEXT, {"pipeline": "tokens,,entities"}, 400,
     "invalid_field", "empty component name at position 2"),
    ("trailing comma in pipeline", b"a", TEXT, {"pipeline": "tokens,"}, 400,
     "invalid_field", "at position 2"),
    ("pipeline string in json", b'{"text": "a", "pipeline": "tokens"}', JSON, {},
     400, "invalid_field", "got a JSON string"),
    ("gutenberg markers around nothing",
     b"Preface.\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n \n\t\n"
     b"*** END OF THE PROJECT GUTENBERG EBOOK X ***\nLicense.\n", TEXT, {}, 400,
     "empty_text", "between its Project Gutenberg START and END marker lines"),
    ("gutenberg markers adjacent",
     b"*** START OF THE PROJECT GUTENBERG EBOOK X ***\n"
     b"*** END OF THE PROJECT GUTENBERG EBOOK X ***\n", TEXT, {}, 400,
     "empty_text", "is empty or only white space"),
    ("gutenberg start then nothing",
     b"Header.\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n\r\n", TEXT,
     {}, 400, "empty_text", "after its Project Gutenberg START marker line"),
    ("gutenberg markers around zero-width",
     '{"text": "H\\n*** START OF THE EBOOK ***\\n\u200b\\n*** END OF THE EBOOK ***"}'
     .encode(), JSON, {}, 400, "empty_text", "START and END marker lines"),
    ("duplicate key", b'{"text": "a", "text": "b"}', JSON, {}, 400, "invalid_json",
     "key 'text' appears more than once"),
    ("duplicate key with spaces",
     b'{"text": "a", "model" :\t"fast", "model"\n: "fast"}', JSON, {}, 400,
     "invalid_json", "key 'model' appears more than once"),
    ("escaped duplicate key", b'{"book_id": "x", "text": "a", "book\\u005fid": "y"}',
     JSON, {}, 400, "invalid_json", "key 'book_id' appears more than once"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "headers", "next_step"),
    [
        pytest.param(b'{"text": ""}', JSON, "send the book's text", id="empty json"),
        pytest.param(b"", TEXT, "send the book's text", id="empty body"),
        pytest.param(b"ab\x00c", TEXT, "Send plain text instead", id="nul byte"),
        pytest.param(b"ab\x00c", TEXT, "remove the NUL characters", id="nul removal"),
        pytest.param(b"ab\x00c", TEXT, "convert the file to UTF-8", id="nul convert"),
    ],
)  # fmt: skip
async def test_text_error_names_next_step(
    make_client: ClientFactory, body: bytes, headers: dict[str, str], next_step: str
) -> None:
    client = await make_client()
    response = await client.post("/v1/jobs", data=body, headers=headers)
    message = (await response.json())["error"]["message"]
    assert response.status == 400
    assert next_step in message


@pytest.mark.parametrize(
    "charset",
    ["unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined",
     "charmap", "base64", "Unicode-Escape"],
)  # fmt: skip
async def test_codec_not_charset_rejected(
    make_client: ClientFactory, charset: str
) -> None:
    client = await make_client()
    for content_type in ("text/plain", "application/json"):
        response = await client.post(
            "/v1/jobs", data=b'{"text": "Tom \\u0041 met."}',
            headers={"Content-Type": f"{content_type}; charset={charset}"},
        )  # fmt: skip
        error = (await response.json())["error"]
        assert response.status == 400, content_type
        assert error["code"] == "invalid_charset", content_type
        assert error["charset"] == charset, content_type
        assert f"charset {charset!r}" in error["message"], content_type
        assert "send charset=utf-8" in error["message"], content_type
        assert "latin-1, windows-1252, utf-16" in error["message"], content_type
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0


@pytest.mark.parametrize(
    ("body", "headers", "query", "status", "code", "words"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_bad_submission_rejected(
    make_client: ClientFactory,
    body: bytes,
    headers: dict[str, str],
    query: Any,
    status: int,
    code: str,
    words: str,
) -> None:
    client = await make_client()
    response = await client.post("/v1/jobs", data=body, headers=headers, params=query)
    payload: dict[str, Any] = await response.json()
    assert response.status == status
    assert payload["error"]["code"] == code
    assert words in payload["error"]["message"]
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0


async def _post_raw(client: Any, headers: bytes) -> tuple[int, dict[str, Any]]:
    """POST a small body with ``headers`` sent byte for byte; return status and body."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /v1/jobs HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        b"Content-Length: 5\r\n" + headers + b"\r\nwords"
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        (b"", 415, "the request has no Content-Type header"),
        (b"Content-Type: ;charset=utf-8\r\n", 415,
         "content type ';charset=utf-8' is not accepted"),
        (b"Content-Type: text/plain, application/json\r\n", 415,
         "content type 'text/plain, application/json' is not accepted"),
        ("Content-Type: text/plain; charset=é\r\n".encode(), 400,
         "charset 'é' in the Content-Type header"),
        (b"Content-Type: text/plain; charset=\xe9\r\n", 400,
         "charset '\\xe9' in the Content-Type header"),
    ],
    ids=["none", "no media type", "two types", "utf-8 charset", "latin-1 byte"],
)  # fmt: skip
async def test_rejection_names_header_as_sent(
    make_client: ClientFactory, headers: bytes, status: int, words: str
) -> None:
    client = await make_client()
    code, body = await _post_raw(client, headers)
    assert code == status, body
    assert words in body["error"]["message"]
    assert "application/octet-stream" not in body["error"]["message"]
    assert "\ufffd" not in body["error"]["message"]


async def test_duplicate_key_check_spares_text(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post(
        "/v1/jobs", data=b'{"text": "a", "book_id": "x", "text": "b"}', headers=JSON
    )
    body = await response.json()
    assert response.status == 400
    assert body["error"]["field"] == "text"
    # Escaped quotes before a colon in the text look like the ends of keys, so
    # the body is parsed a second time, finds no repeated key and is accepted.
    text = 'He said "no": once, "no" : twice, and "text": thrice.'
    response = await client.post("/v1/jobs", json={"text": text, "book_id": "x"})
    job = await response.json()
    assert response.status == 202, job
    await wait_status(client, job["job_id"], {"completed"})
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert result["text"]["chars"] == len(text)
    assert result["book_id"] == "x"


async def test_too_many_tokens_is_413(make_client: ClientFactory) -> None:
    client = await make_client(max_tokens=50)
    response = await client.post("/v1/jobs", json={"text": "word " * 60})
    body = await response.json()
    assert response.status == 413
    assert body["error"]["tokens"] == 60
    assert body["error"]["limit"] == 50
    assert "60 tokens" in body["error"]["message"]


async def test_body_over_limit_is_json_413(make_client: ClientFactory) -> None:
    client = await make_client(max_body_bytes=1024)
    response = await client.post("/v1/jobs", data=b"x " * 2048, headers=TEXT)
    body = await response.json()
    assert response.status == 413
    assert body["error"]["code"] == "body_too_large"
    assert "1024 bytes" in body["error"]["message"]


@pytest.mark.parametrize("job_id", ["abc", "../../etc/passwd", "G" * 32])
async def test_malformed_job_id_is_400(make_client: ClientFactory, job_id: str) -> None:
    client = await make_client()
    response = await client.get(f"/v1/jobs/{job_id}")
    body = await response.json()
    assert response.status in (400, 404)
    assert "error" in body


async def test_bom_stripped_and_crlf_kept(make_client: ClientFactory) -> None:
    client = await make_client()
    text = "\ufeffOne line\r\nTwo line\r\n"
    job = await submit_text(client, text)
    await wait_status(client, job["job_id"], {"completed"})
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert result["text"]["chars"] == len(text) - 1
    assert result["tokens"][0] == {"token_id": 0, "word": "One", "start": 0, "end": 3}
    assert result["tokens"][2]["start"] == len("One line\r\n")


async def test_path_like_book_id_is_only_a_label(
    make_client: ClientFactory, tmp_path: Any
) -> None:
    client = await make_client()
    job = await submit_text(client, "text", book_id="../../../tmp/evil")
    await wait_status(client, job["job_id"], {"completed"})
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert result["book_id"] == "../../../tmp/evil"
    spooled = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert spooled == [f"{job['job_id']}.json"]


async def test_pipeline_aliases_accepted(make_client: ClientFactory) -> None:
    client = await make_client()
    job = await submit_text(client, "a b", pipeline="token")
    assert job["components"] == ["tokens"]


async def test_hyphen_run_counts_every_token(make_client: ClientFactory) -> None:
    client = await make_client(max_tokens=1000)
    response = await client.post("/v1/jobs", json={"text": "a-" * 2000})
    body = await response.json()
    assert response.status == 413
    assert body["error"]["tokens"] == 4000


def test_component_a_model_lacks_is_rejected() -> None:
    from runner.protocol import ENGINES
    from server.errors import ApiError
    from server.submission import parse_body

    spacy = ENGINES["spacy"]
    body = b'{"text": "He ran.", "model": "fast", "pipeline": ["tokens", "event"]}'
    with pytest.raises(ApiError) as caught:
        parse_body(body, "application/json", {}, spacy)
    assert caught.value.status == 400
    message = str(caught.value)
    assert "'event'" in message
    assert "'fast'" in message
    assert "'litbank'" in message
    # Without a pipeline, each model gets the sections it computes.
    fast = parse_body(b'{"text": "He ran.", "model": "fast"}', "application/json", {}, spacy)
    assert "events" not in fast.components
    tagged = parse_body(b'{"text": "He ran."}', "application/json", {}, spacy)
    assert tagged.model == "litbank"
    assert "events" in tagged.components


@pytest.mark.parametrize("pipeline", ["characters", "coref", "entities,characters"])
def test_component_without_its_requirement(pipeline: str) -> None:
    from runner.protocol import ENGINES
    from server.errors import ApiError
    from server.submission import parse_body

    booknlp = ENGINES["booknlp"]
    with pytest.raises(ApiError) as caught:
        parse_body(b"He ran.", "text/plain", {"pipeline": pipeline}, booknlp)
    assert caught.value.status == 400
    assert "needs ['quotes']" in caught.value.message
    accepted = parse_body(
        b"He ran.", "text/plain", {"pipeline": pipeline + ",quotes"}, booknlp
    )
    assert "quotes" in accepted.components
    # The spaCy engine builds characters without quotes.
    spacy = parse_body(b"He ran.", "text/plain", {"pipeline": "characters"}, ENGINES["spacy"])
    assert spacy.components == ("characters",)


async def test_empty_pipeline_same_in_json_and_query(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    forms = {
        "json list": {"json": {"text": "a", "pipeline": []}},
        "empty query": {"data": b"a", "headers": TEXT, "params": {"pipeline": ""}},
        "only commas": {"data": b"a", "headers": TEXT, "params": {"pipeline": " , "}},
    }
    for path in ("/v1/jobs", "/v1/analyze"):
        for form, request in forms.items():
            response = await client.post(path, **request)
            error = (await response.json())["error"]
            assert response.status == 400, (path, form)
            assert error["code"] == "invalid_field", (path, form)
            assert error["field"] == "pipeline", (path, form)
            assert "'pipeline' is empty" in error["message"], (path, form)
            assert "['tokens']" in error["message"], (path, form)
            assert "leave 'pipeline' out" in error["message"], (path, form)
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("book_id=%ed%a0%80", "'book_id'"),
        ("model=fast&pipeline=tok%ffens", "'pipeline'"),
        ("book_id=%", "'%' at offset 0 does not start an escape"),
        ("book_id=%%41", "'%' at offset 0 does not start an escape"),
        ("book_id=50%off", "send a literal '%' as %25"),
    ],
)
async def test_query_not_utf8_is_400(
    make_client: ClientFactory, query: str, field: str
) -> None:
    client = await make_client()
    url = URL(f"/v1/jobs?{query}", encoded=True)
    response = await client.post(url, data=b"a book", headers=TEXT)
    error = (await response.json())["error"]
    assert response.status == 400
    assert error["code"] == "invalid_field"
    assert field in error["message"]
    assert "not valid percent-encoded UTF-8" in error["message"]
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0


async def test_undecodable_text_leaves_no_file(
    make_client: ClientFactory, tmp_path: Any
) -> None:
    client = await make_client()
    for charset, body in [("utf-7", b"Tom +2AA- met"), ("utf-16-le", b"\x00\xd8")]:
        headers = {"Content-Type": f"text/plain; charset={charset}"}
        response = await client.post("/v1/jobs", data=body, headers=headers)
        assert response.status == 400, charset
    assert list((tmp_path / "texts").iterdir()) == []


def test_failed_text_write_removes_file(tmp_path: Any) -> None:
    from server.routes import _write_text

    path = tmp_path / "job.txt"
    with pytest.raises(UnicodeEncodeError):
        _write_text(str(path), "a" * 100_000 + "\ud800")
    assert not path.exists()


async def test_unwritable_spool_is_503(
    make_client: ClientFactory, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client()
    # A file where the texts folder was makes every text write fail.
    (tmp_path / "texts").rmdir()
    (tmp_path / "texts").write_text("not a folder")
    response = await client.post("/v1/jobs", data=b"a book", headers=TEXT)
    body = await response.json()
    assert response.status == 503
    assert body["error"]["code"] == "storage_error"
    assert "could not store the text" in body["error"]["message"]
    assert response.headers["Retry-After"] == "30"
    listed = await (await client.get("/v1/jobs")).json()
    assert listed["count"] == 0
    assert "event=job.store_failed job_id=" in caplog.text
