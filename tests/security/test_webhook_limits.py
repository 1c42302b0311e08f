"""Webhooks cannot be multiplied or used to pull big answers: at most WEBHOOK_MAX_ENDPOINTS per
vendor, the list is paginated, a receiver's answer is read only up to the excerpt, and
deliveries have their own worker in the deploy."""

import time
import uuid
from http.server import BaseHTTPRequestHandler

import pytest
import yaml

from processing.webhooks import services
from processing.webhooks.models import WebhookEndpoint
from tests.support.clients import client_for
from tests.support.loopback import ServedOnLoopback
from tests.support.paths import ROOT

HOOK = "http://127.0.0.1:9/hooks"


@pytest.mark.django_db
def test_a_vendor_cannot_add_more_than_the_endpoint_limit(owner, settings):
    settings.WEBHOOK_MAX_ENDPOINTS = 3
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    client = client_for(owner)
    codes = [client.post("/api/v1/webhooks/", {"url": f"{HOOK}/{n}"}, format="json").status_code for n in range(4)]

    assert codes == [201, 201, 201, 409]  # a valid request that what exists does not allow
    refused = client.post("/api/v1/webhooks/", {"url": HOOK}, format="json").json()
    assert refused["code"] == "too_many_webhooks"
    assert WebhookEndpoint.objects.count() == 3


@pytest.mark.django_db
def test_the_endpoint_list_is_paginated(owner, vendor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    for n in range(3):
        services.endpoint_create(vendor=vendor, url=f"{HOOK}/{n}")

    page = client_for(owner).get("/api/v1/webhooks/?page_size=2").json()

    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


class _Endless(BaseHTTPRequestHandler):
    """Answers 200 with a body that never ends (until the client hangs up)."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" * 65536)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.mark.django_db
def test_a_receivers_answer_is_read_only_up_to_the_excerpt(vendor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_TIMEOUT_S = 5
    with ServedOnLoopback(_Endless) as server:
        endpoint = services.endpoint_create(vendor=vendor, url=f"http://127.0.0.1:{server.port}/hook")
        started = time.monotonic()
        outcome = services.delivery_attempt(
            endpoint_id=endpoint.pk, delivery_id=str(uuid.uuid4()), event="job.succeeded", payload={"a": 1}, attempt=1
        )

    assert time.monotonic() - started < 5, "the answer was read to its (missing) end"
    assert outcome.delivery.status_code == 200
    assert 0 < len(outcome.delivery.response_excerpt) <= services.EXCERPT_CHARS


def test_webhook_deliveries_have_a_worker_of_their_own():
    services_ = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    queues_by_service = {
        name: set(spec["command"][spec["command"].index("--queues") + 1 :])
        for name, spec in services_.items()
        if "rundramatiq" in spec.get("command", [])
    }
    consuming = [name for name, queues in queues_by_service.items() if "webhooks" in queues]
    assert len(consuming) == 1 and queues_by_service[consuming[0]] == {"webhooks"}, queues_by_service
