"""The same stream served the production way: uvicorn running config.asgi, where the stream is
an async generator waiting on redis.asyncio."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.api.events.sse import parse
from tests.factories import make_member, make_record, make_vendor
from tests.worker import ROOT, WorkerProcess
from vendors.services import api_token_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asgi_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = WorkerProcess().env()  # the test database and Redis, as a worker gets them
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health/", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None, "uvicorn exited"
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_under_asgi_a_stream_follows_a_job_to_its_end(worker, asgi_server):  # noqa: F811
    vendor = make_vendor("acme")
    headers = {"Authorization": f"Token {api_token_for(user=make_member(vendor, 'acme-owner', role='owner'))}"}
    with httpx.Client(base_url=asgi_server, headers=headers, timeout=httpx.Timeout(10, read=30)) as client:
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
