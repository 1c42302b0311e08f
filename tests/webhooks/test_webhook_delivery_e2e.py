"""Webhooks delivered by a real worker to a real HTTP server on loopback."""

import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from tests.factories import make_record
from tests.support.loopback import free_port
from tests.support.waiting import wait_for
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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


def deliveries(client: httpx.Client, endpoint: dict) -> list[dict]:
    return client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]


def test_a_finished_job_is_posted_signed_with_the_endpoints_secret(worker, vendor, http):
    with Receiver() as receiver:
        endpoint = add_endpoint(http, receiver.url, ["job.succeeded"])
        receiver.secrets = [endpoint["secret"], "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="]
        job_id = start_sleepy_job(http, vendor)
        (delivery,) = receiver.wait_for(1)

    assert delivery.verified == {endpoint["secret"]: True, receiver.secrets[1]: False}, "standardwebhooks verifies"
    assert abs(time.time() - int(delivery.headers["webhook-timestamp"])) < 300
    body = json.loads(delivery.body)
    assert body["type"] == "job.succeeded"
    assert datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")).tzinfo is not None
    assert body["data"]["id"] == job_id
    assert body["data"]["state"] == "succeeded"

    log = deliveries(http, endpoint)
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in log] == [(1, 200, True)]
    assert log[0]["delivery_id"] == delivery.headers["webhook-id"]


def test_during_a_rotation_deliveries_verify_with_the_old_and_the_new_secret(worker, vendor, http, settings):
    with Receiver() as receiver:
        endpoint = add_endpoint(http, receiver.url, ["job.succeeded"])
        rotated = http.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret/")
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != endpoint["secret"] and new_secret.startswith("whsec_")
        receiver.secrets = [endpoint["secret"], new_secret]
        start_sleepy_job(http, vendor)
        (delivery,) = receiver.wait_for(1)

    assert delivery.verified == {endpoint["secret"]: True, new_secret: True}
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2, "one signature per secret"


def test_after_the_grace_period_only_the_new_secret_signs(worker, vendor, http):
    from processing.webhooks.models import WebhookEndpoint

    with Receiver() as receiver:
        endpoint = add_endpoint(http, receiver.url, ["job.succeeded"])
        new_secret = http.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret/").json()["secret"]
        WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
            previous_secret_expires_at=datetime(2020, 1, 1, tzinfo=UTC)
        )
        receiver.secrets = [endpoint["secret"], new_secret]
        start_sleepy_job(http, vendor)
        (delivery,) = receiver.wait_for(1)

    assert delivery.verified == {endpoint["secret"]: False, new_secret: True}


def test_a_failing_receiver_is_retried_and_every_attempt_is_logged(worker, vendor, http):
    with Receiver(statuses=[500, 500]) as receiver:
        endpoint = add_endpoint(http, receiver.url, ["job.succeeded", "job.failed"])
        job_id = start_sleepy_job(http, vendor)
        received = receiver.wait_for(3)
        time.sleep(0.5)  # the last attempt's log row is written after the answer

    assert len(received) == 3, "no delivery after the one that succeeded"
    assert len({r.headers["webhook-id"] for r in received}) == 1, "retries of one delivery keep its webhook-id"
    assert {json.loads(r.body)["data"]["id"] for r in received} == {job_id}

    log = deliveries(http, endpoint)
    attempts = sorted((d["attempt"], d["status_code"], d["succeeded"]) for d in log)
    assert attempts == [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert all(d["event"] == "job.succeeded" for d in log)
    assert log[-1]["response_excerpt"] == "receiver is down"


def test_an_unreachable_receiver_is_logged_with_its_error(worker, vendor, http):
    endpoint = add_endpoint(http, f"http://127.0.0.1:{free_port()}/hook", ["job.succeeded"])  # nothing listens
    start_sleepy_job(http, vendor)

    log = wait_for(
        lambda: len(entries := deliveries(http, endpoint)) >= 2 and entries,
        timeout=60,
        interval=0.2,
        what="a refused connection to be retried",
    )
    assert all(d["status_code"] is None and "connection" in d["error"] for d in log)


def test_a_finished_batch_is_posted_once(worker, vendor, http):
    from processing.jobs import services

    with Receiver() as receiver:
        add_endpoint(http, receiver.url, ["batch.finished"])
        batch = services.batch_create(
            vendor=vendor, kind="sleepy", records=[make_record(vendor) for _ in range(2)], params={"seconds": 0.1}
        )
        (delivery,) = receiver.wait_for(1)
        time.sleep(1)
        assert len(receiver.received) == 1, "job events were not asked for"

    body = json.loads(delivery.body)
    assert body["type"] == "batch.finished"
    assert body["data"]["id"] == str(batch.pk)
    assert body["data"]["total"] == 2
