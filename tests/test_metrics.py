"""GET /metrics in Prometheus text format, fed by real jobs and child deaths."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ClientFactory, submit_text, wait_ready, wait_status


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_count_outcomes_and_restarts(make_client: ClientFactory) -> None:
    client = await make_client()
    done = await submit_text(client, "one two three")
    await wait_status(client, done["job_id"], {"completed"})
    killed = await submit_text(client, "#test-engine chunks=3 kill_at=1\nbook")
    await wait_status(client, killed["job_id"], {"failed"})
    await wait_ready(client)

    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    values = samples(await response.text())
    assert values[("booknlp_jobs_submitted_total", ())] == 2
    assert values[("booknlp_jobs_finished_total", (("outcome", "completed"),))] == 1
    assert values[("booknlp_jobs_finished_total", (("outcome", "failed"),))] == 1
    assert values[("booknlp_tokens_processed_total", ())] == 3
    assert values[("booknlp_child_restarts_total", (("cause", "sigkill"),))] == 1
    assert values[("booknlp_queue_waiting", ())] == 0
    assert values[("booknlp_child_ready", ())] == 1
    count = ("booknlp_job_duration_seconds_count", (("outcome", "completed"),))
    assert values[count] == 1


async def test_metrics_show_child_memory(make_client: ClientFactory) -> None:
    client = await make_client(memory_poll_s=0.05)
    job = await submit_text(client, "#test-engine chunks=10 delay_s=0.05\nbook")
    await wait_status(client, job["job_id"], {"completed"})
    text = await (await client.get("/metrics")).text()
    match = re.search(r"^booknlp_child_memory_bytes (\S+)$", text, re.MULTILINE)
    assert match is not None
    assert float(match.group(1)) > 1_000_000
