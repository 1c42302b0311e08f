"""Webhooks delivered by a real worker to a real HTTP server on loopback."""

import hashlib
import hmac
import json
import time

import httpx
import pytest

from tests.events.conftest import make_record
from tests.factories import make_member, make_vendor
from tests.webhooks.receiver import Receiver
from vendors.services import api_token_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(live_server):
    vendor = make_vendor("acme")
    owner = make_member(vendor, "acme-owner", role="owner")
    headers = {"Authorization": f"Token {api_token_for(user=owner)}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=10) as client:
        yield vendor, client


def add_endpoint(client: httpx.Client, url: str, events: list[str]) -> dict:
    response = client.post("/api/v1/webhooks/", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()


def start_sleepy_job(client: httpx.Client, vendor) -> str:
    response = client.post(
        "/api/v1/jobs/", json={"kind": "sleepy", "record": make_record(vendor).pk, "params": {"seconds": 0.1}}
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_a_finished_job_is_posted_signed_with_the_endpoints_secret(worker, acme):  # noqa: F811
    vendor, client = acme
    with Receiver() as receiver:
        endpoint = add_endpoint(client, receiver.url, ["job.succeeded"])
        job_id = start_sleepy_job(client, vendor)
        (delivery,) = receiver.wait_for(1)

    timestamp = delivery.headers["X-Darkroom-Timestamp"]
    expected = hmac.new(endpoint["secret"].encode(), f"{timestamp}.".encode() + delivery.body, hashlib.sha256)
    assert delivery.headers["X-Darkroom-Signature"] == f"sha256={expected.hexdigest()}"
    assert abs(time.time() - int(timestamp)) < 300
    assert delivery.headers["X-Darkroom-Event"] == "job.succeeded"
    body = json.loads(delivery.body)
    assert body["event"] == "job.succeeded"
    assert body["id"] == delivery.headers["X-Darkroom-Delivery"]
    assert body["data"]["id"] == job_id
    assert body["data"]["state"] == "succeeded"

    log = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in log] == [(1, 200, True)]


def test_a_failing_receiver_is_retried_and_every_attempt_is_logged(worker, acme):  # noqa: F811
    vendor, client = acme
    with Receiver(statuses=[500, 500]) as receiver:
        endpoint = add_endpoint(client, receiver.url, ["job.succeeded", "job.failed"])
        job_id = start_sleepy_job(client, vendor)
        received = receiver.wait_for(3)
        time.sleep(0.5)  # the last attempt's log row is written after the answer

    assert len(received) == 3, "no delivery after the one that succeeded"
    assert len({r.headers["X-Darkroom-Delivery"] for r in received}) == 1, "retries of one delivery"
    assert {json.loads(r.body)["data"]["id"] for r in received} == {job_id}

    log = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    attempts = sorted((d["attempt"], d["status_code"], d["succeeded"]) for d in log)
    assert attempts == [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert all(d["event"] == "job.succeeded" for d in log)
    assert log[-1]["response_excerpt"] == "receiver is down"


def test_an_unreachable_receiver_is_logged_with_its_error(worker, acme):  # noqa: F811
    import socket

    vendor, client = acme
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    endpoint = add_endpoint(client, f"http://127.0.0.1:{closed_port}/hook", ["job.succeeded"])
    start_sleepy_job(client, vendor)

    deadline = time.monotonic() + 60
    log = []
    while time.monotonic() < deadline and len(log) < 2:
        log = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
        time.sleep(0.2)
    assert len(log) >= 2, "a refused connection is retried"
    assert all(d["status_code"] is None and "Connect" in d["error"] for d in log)


def test_a_finished_batch_is_posted_once(worker, acme):  # noqa: F811
    from processing.jobs import services

    vendor, client = acme
    with Receiver() as receiver:
        add_endpoint(client, receiver.url, ["batch.finished"])
        batch = services.batch_create(
            vendor=vendor, kind="sleepy", records=[make_record(vendor) for _ in range(2)], params={"seconds": 0.1}
        )
        (delivery,) = receiver.wait_for(1)
        time.sleep(1)
        assert len(receiver.received) == 1, "job events were not asked for"

    body = json.loads(delivery.body)
    assert body["event"] == "batch.finished"
    assert body["data"]["id"] == str(batch.pk)
    assert body["data"]["total"] == 2
