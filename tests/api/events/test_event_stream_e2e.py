"""A client follows a running job over HTTP while a real worker processes it."""

import httpx
import pytest

from tests.api.events.sse import parse
from tests.factories import make_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def follow(http: httpx.Client, query: str) -> list:
    headers, timeout = {"Accept": "text/event-stream"}, httpx.Timeout(10, read=30)
    with http.stream("GET", f"/api/v1/events/{query}", headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse(response.iter_lines()))


def test_a_stream_shows_progress_moving_and_ends_with_the_final_state(worker, vendor, http):
    record = make_record(vendor)
    created = http.post(
        "/api/v1/jobs/",
        json={"kind": "sleepy", "record": record.pk, "params": {"seconds": 3, "steps": 6}},
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]

    events = follow(http, f"?job={job_id}")

    assert events[-1].name == "end", [e.name for e in events]
    assert all(e.name == "job" for e in events[:-1])
    final = events[-1].data
    assert final["id"] == job_id
    assert final["state"] == "succeeded"
    assert final["progress"]["percent"] == 100
    assert final["result"]["content_type"] == "image/png"
    running = [e.data["progress"]["percent"] for e in events if e.data["state"] == "running"]
    assert len(set(running)) >= 3, f"progress should move while running: {running}"
    assert running == sorted(running), f"progress never goes back: {running}"
    steps = [e.data["progress"]["message"] for e in events if e.data["progress"]["message"].startswith("step")]
    assert "step 6 of 6" in steps


def test_a_batch_stream_counts_jobs_until_the_batch_is_finished(worker, vendor, http):
    from processing.jobs import services

    batch = services.batch_create(
        vendor=vendor,
        kind="sleepy",
        records=[make_record(vendor) for _ in range(3)],
        params={"seconds": 0.5, "steps": 2},
    )

    events = follow(http, f"?batch={batch.pk}")

    assert events[-1].name == "end"
    assert all(e.name == "batch" for e in events[:-1])
    final = events[-1].data
    assert final["id"] == str(batch.pk)
    assert final["finished"] is True
    assert final["total"] == 3
    assert len(events) >= 2, "the stream shows the batch before it is finished"
    assert events[0].data["finished"] is False
