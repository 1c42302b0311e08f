"""The same stream served the production way: uvicorn running config.asgi, where the stream is
an async generator waiting on redis.asyncio."""

import httpx
import pytest

from tests.api.events.sse import parse
from tests.factories import make_record
from tests.support.clients import token_headers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_under_asgi_a_stream_follows_a_job_to_its_end(worker, asgi_server, vendor, owner):
    with httpx.Client(base_url=asgi_server, headers=token_headers(owner), timeout=httpx.Timeout(10, read=30)) as client:
        created = client.post(
            "/api/v1/jobs/",
            json={"kind": "sleepy", "record": make_record(vendor).pk, "params": {"seconds": 2, "steps": 4}},
        )
        assert created.status_code == 202, created.text
        with client.stream("GET", f"/api/v1/events/?job={created.json()['id']}") as response:
            assert response.status_code == 200
            events = list(parse(response.iter_lines()))

    assert events[-1].name == "end"
    assert events[-1].data["state"] == "succeeded"
    running = [e.data["progress"]["percent"] for e in events if e.data["state"] == "running"]
    assert len(set(running)) >= 3, running
