"""The real spaCy engine end to end through the service, on a real chapter."""

from __future__ import annotations

from pathlib import Path

from server.submission import count_tokens
from tests.conftest import ClientFactory, wait_ready, wait_status

CHAPTER = Path(__file__).parent / "data" / "pride_and_prejudice_ch1.txt"


async def test_spacy_engine_analyses_a_chapter(make_client: ClientFactory) -> None:
    client = await make_client(engine="spacy")
    ready = await wait_ready(client)
    assert ready["engine"] == "spacy"
    assert set(ready["components"]) == {
        "tokens", "entities", "quotes", "characters", "events"
    }  # fmt: skip
    assert ready["default_model"] == "litbank"
    assert ready["device"] in ("cpu", "cuda")

    text = CHAPTER.read_text(encoding="utf-8")
    response = await client.post("/v1/jobs", json={"text": text, "book_id": "pp1"})
    assert response.status == 202
    job_id = (await response.json())["job_id"]
    done = await wait_status(client, job_id, {"completed", "failed"}, 300.0)
    assert done["status"] == "completed", done["error"]
    result = await (await client.get(f"/v1/jobs/{job_id}/result")).json()

    tokens = result["tokens"]
    estimate = count_tokens(text)
    assert abs(len(tokens) - estimate) < 0.1 * estimate
    assert result["text"]["tokens"] == len(tokens)
    assert all(text[t["start"]:t["end"]] == t["word"] for t in tokens)
    assert [t["token_id"] for t in tokens] == list(range(len(tokens)))
    assert {t["pos"] for t in tokens} >= {"NOUN", "VERB", "PROPN", "PUNCT"}

    bennet = [c for c in result["characters"] if c["name"] == "Mr. Bennet"]
    assert len(bennet) == 1
    assert bennet[0]["gender"]["argmax"] == "he/him/his"
    assert bennet[0]["mention_count"] >= 5

    netherfield = [q for q in result["quotes"] if "Netherfield Park is let" in q["text"]]
    assert len(netherfield) == 1
    quote = netherfield[0]
    assert text[quote["start"]:quote["end"]] == quote["text"]
    assert quote["text"].startswith("“")
    assert len(result["quotes"]) >= 20
    # The default model tags events and marks them on the tokens.
    assert result["model"] == "litbank"
    events = [t["token_id"] for t in tokens if t["event"]]
    assert events and events == [e["token_id"] for e in result["events"]]
    assert {"PROP", "NOM", "PRON"} <= {e["mention_type"] for e in result["entities"]}
    assert result["supersenses"] == []
