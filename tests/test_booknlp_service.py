"""The BookNLP engine behind the real service: status, result and errors.

These run once ``booknlp`` is installed. The child reads the engine settings
from the environment, which it inherits from the test.
"""

from __future__ import annotations

import asyncio
import io
import pathlib
import zipfile
from typing import Any

import pytest

pytest.importorskip(
    "booknlp",
    reason="booknlp is not installed; install it with "
    "'pip install --no-deps booknlp==1.0.8'",
)

from tests.booknlp_fixtures import build_small_and_custom  # noqa: E402
from tests.conftest import ClientFactory, submit_text, wait_status  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BOOK = pathlib.Path(__file__).parent / "data" / "pride_and_prejudice_ch1.txt"
STAGES = ["parse", "entities", "quotes", "attribution", "name_coref", "coref", "output"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    text = BOOK.read_text(encoding="utf-8")
    return build_small_and_custom(tmp_path_factory.mktemp("booknlp_models"), text)


@pytest.fixture
def booknlp_env(model_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.setenv("BOOKNLP_JOBS_BOOKNLP_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return model_dir


async def test_service_runs_booknlp_job(
    make_client: ClientFactory, booknlp_env: pathlib.Path
) -> None:
    client = await make_client(engine="booknlp")
    ready = await (await client.get("/v1/ready")).json()
    assert ready["engine"] == "booknlp"
    job = await submit_text(client, BOOK.read_text(encoding="utf-8"))
    seen: list[str] = []
    body: dict[str, Any] = {}
    for _ in range(3000):
        body = await (await client.get(f"/v1/jobs/{job['job_id']}")).json()
        if body.get("stage") and (not seen or seen[-1] != body["stage"]):
            seen.append(body["stage"])
        if body["status"] in {"completed", "failed"}:
            break
        await asyncio.sleep(0.05)
    assert body["status"] == "completed", body
    # The front sets the stage "done" when the job completes.
    assert seen[-1] == "done"
    engine_stages = seen[:-1]
    assert engine_stages == sorted(engine_stages, key=STAGES.index)
    assert len(engine_stages) >= 3
    result = await (await client.get(f"/v1/jobs/{job['job_id']}/result")).json()
    assert result["tokens"]
    assert result["entities"]
    assert result["quotes"]

    response = await client.get(f"/v1/jobs/{job['job_id']}/booknlp.zip")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(archive.namelist())
    assert {f"{job['job_id']}{suffix}" for suffix in (".tokens", ".entities", ".book")} <= names
    tokens_file = archive.read(f"{job['job_id']}.tokens").decode("utf-8")
    assert tokens_file.splitlines()[0].startswith("paragraph_ID")


async def test_service_rejects_coref_without_quotes(
    make_client: ClientFactory, booknlp_env: pathlib.Path
) -> None:
    # BookNLP would exit on this pipeline (the engine tests show the job failing
    # cleanly), so the service rejects it before it waits in the queue.
    client = await make_client(engine="booknlp")
    response = await client.post(
        "/v1/jobs", data="“Hello,” said Tom.\n", params={"pipeline": "coref"}
    )
    body = await response.json()
    assert response.status == 400
    assert "needs ['quotes']" in body["error"]["message"]
    assert (await (await client.get("/v1/jobs")).json())["count"] == 0
    job = await submit_text(client, "“Hello,” said Tom.\n", pipeline="coref,quotes")
    done = await wait_status(client, job["job_id"], {"completed", "failed"}, timeout_s=120)
    assert done["status"] == "completed"


async def test_service_missing_model_in_ready(
    make_client: ClientFactory, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKNLP_JOBS_BOOKNLP_MODEL_DIR", str(tmp_path / "empty"))
    client = await make_client(engine="booknlp", wait=False)
    message = ""
    for _ in range(1200):
        response = await client.get("/v1/ready")
        message = (await response.json())["error"]["message"]
        if "missing" in message:
            break
        await asyncio.sleep(0.05)
    assert "entities_google_bert_uncased_L-4_H-256_A-4-v1.0.model" in message
    assert "people.ischool.berkeley.edu/~dbamman/booknlp_models/" in message


async def test_ready_follows_loaded_models(
    make_client: ClientFactory, booknlp_env: pathlib.Path
) -> None:
    client = await make_client(engine="booknlp")
    ready = await (await client.get("/v1/ready")).json()
    assert ready["loaded_models"] == ["small"]
    job = await submit_text(client, "“Hello,” said Tom.\n", model="custom", pipeline="tokens")
    await wait_status(client, job["job_id"], {"completed"}, timeout_s=120)
    ready = await (await client.get("/v1/ready")).json()
    # One model stays loaded by default, so custom took small's place.
    assert ready["loaded_models"] == ["custom"]
