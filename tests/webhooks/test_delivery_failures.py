"""A delivery that cannot be sent is logged as a failed attempt, whatever stopped it, and tried
again only when trying again can help."""

import socket
import uuid

import pytest

from processing.jobs.models import Lane
from processing.lib.http.guard import REFUSED
from processing.webhooks import services
from processing.webhooks.models import QueuedDelivery, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db

HOST = "hooks.example.test"


@pytest.fixture
def endpoint(vendor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # not resolved when created: resolved when sent
    return services.endpoint_create(vendor=vendor, url=f"https://{HOST}/hook")


@pytest.fixture
def resolver(monkeypatch):
    """`HOST` fails to resolve with the given getaddrinfo error; any other name as usual."""
    real = socket.getaddrinfo

    def failing_with(errno):
        def getaddrinfo(host, *args, **kwargs):
            if host == HOST:
                raise socket.gaierror(errno, "name resolution failed")
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return failing_with


def attempt(endpoint):
    return services.delivery_attempt(
        endpoint_id=endpoint.pk, delivery_id=str(uuid.uuid4()), event=WebhookEvent.JOB_SUCCEEDED, payload={}, attempt=1
    )


def test_a_name_that_does_not_resolve_now_is_a_failed_attempt_tried_again(endpoint, resolver):
    resolver(socket.EAI_AGAIN)
    outcome = attempt(endpoint)
    assert outcome.retry
    delivery = WebhookDelivery.objects.get()
    assert delivery == outcome.delivery and delivery.status_code is None
    assert delivery.error == f"could not resolve {HOST!r}"

    # Queued, it waits for its backoff and is tried again, as after a refused connection.
    queued = QueuedDelivery.objects.create(
        vendor=endpoint.vendor, endpoint=endpoint, event=WebhookEvent.JOB_SUCCEEDED, payload={}, lane=Lane.IN_FLIGHT
    )
    services.queued_delivery_run(queued_id=queued.pk, dispatch=0)
    assert WebhookDelivery.objects.count() == 2
    queued.refresh_from_db()
    assert (queued.lane, queued.attempt) == (Lane.DEFERRED, 2) and queued.not_before is not None


def test_a_name_that_does_not_exist_is_a_failed_attempt_not_tried_again(endpoint, resolver):
    resolver(socket.EAI_NONAME)
    outcome = attempt(endpoint)
    assert not outcome.retry
    # In the words a name pointing inside gets: no oracle of internal names (tests/security/test_error_messages.py).
    assert WebhookDelivery.objects.get().error == REFUSED
