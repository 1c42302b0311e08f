"""A delivery that cannot be sent is logged as a failed attempt, whatever stopped it, and tried
again only when trying again can help."""

import socket
import uuid

import pytest

from processing.lib.http.guard import REFUSED
from processing.webhooks import services
from processing.webhooks.models import WebhookDelivery, WebhookEvent
from processing.webhooks.tasks import DeliveryFailed, deliver_webhook

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

    with pytest.raises(DeliveryFailed):  # Dramatiq's backoff runs it again, as after a refused connection
        deliver_webhook.fn(endpoint.pk, str(uuid.uuid4()), WebhookEvent.JOB_SUCCEEDED, {})
    assert WebhookDelivery.objects.count() == 2


def test_a_name_that_does_not_exist_is_a_failed_attempt_not_tried_again(endpoint, resolver):
    resolver(socket.EAI_NONAME)
    outcome = attempt(endpoint)
    assert not outcome.retry
    # In the words a name pointing inside gets: no oracle of internal names (tests/security/test_error_messages.py).
    assert WebhookDelivery.objects.get().error == REFUSED
