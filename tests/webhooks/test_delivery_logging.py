"""An operator reads one WARNING line, without a traceback, for each attempt a vendor's endpoint
being down spoiled, and an ERROR only when the delivery gives up."""

import logging
import socket

import pytest

from processing.jobs.models import Lane
from processing.webhooks import services
from processing.webhooks.models import QueuedDelivery, WebhookDelivery, WebhookEvent
from tests.support.row_locks import rows_locked

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_once(queued: QueuedDelivery) -> None:
    QueuedDelivery.objects.filter(pk=queued.pk).update(lane=Lane.IN_FLIGHT, dispatches=queued.dispatches + 1)
    services.queued_delivery_run(queued_id=queued.pk, dispatch=queued.dispatches + 1)


def webhook_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("processing.webhooks")]


def test_an_endpoint_that_is_down_is_a_warning_per_attempt_and_an_error_when_retries_are_spent(
    vendor, settings, caplog, closed_port
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_ALLOWED_PORTS = [closed_port]
    settings.WEBHOOK_MAX_RETRIES = 1
    services.endpoint_create(vendor=vendor, url=f"http://127.0.0.1:{closed_port}/hook")
    assert services.deliveries_queue(vendor_id=vendor.pk, event=WebhookEvent.JOB_SUCCEEDED, data={"id": "x"}) == 1
    caplog.set_level(logging.INFO)

    run_once(QueuedDelivery.objects.get())
    first = webhook_lines(caplog)
    assert [r.levelname for r in first] == ["WARNING"]
    assert first[0].exc_info is None and "attempt 1" in first[0].getMessage()
    assert QueuedDelivery.objects.get().attempt == 2  # waits for its retry

    caplog.clear()
    run_once(QueuedDelivery.objects.get())
    last = webhook_lines(caplog)
    assert [r.levelname for r in last] == ["WARNING", "ERROR"]
    assert all(r.exc_info is None for r in last)
    assert "gave up after 2 attempts" in last[1].getMessage()
    assert not QueuedDelivery.objects.exists()
    assert WebhookDelivery.objects.count() == 2


def test_an_endpoint_answering_503_is_one_warning_for_the_attempt(vendor, settings, caplog, serve):
    receiver = serve({"/hook": lambda request: (503, {}, b"down for maintenance")})
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_ALLOWED_PORTS = [receiver.port]
    services.endpoint_create(vendor=vendor, url=receiver.url("/hook"))
    services.deliveries_queue(vendor_id=vendor.pk, event=WebhookEvent.JOB_SUCCEEDED, data={"id": "x"})
    caplog.set_level(logging.INFO)

    run_once(QueuedDelivery.objects.get())

    lines = webhook_lines(caplog)
    assert [r.levelname for r in lines] == ["WARNING"]
    assert "status 503" in lines[0].getMessage()
    assert receiver.calls("/hook") == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_deferred_while_admission_holds_the_row_waits_for_the_lock_not_an_error(
    vendor, settings, caplog, closed_port
):
    """A webhooks worker deferring a failed attempt while an admission pass holds the row's lock
    (a lock wait timeout or a deadlock, seen in the rehearsal as an ERROR from Dramatiq) tries
    the compare-and-set again: the delivery waits for its retry, nothing is raised."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_ALLOWED_PORTS = [closed_port]
    services.endpoint_create(vendor=vendor, url=f"http://127.0.0.1:{closed_port}/hook")
    services.deliveries_queue(vendor_id=vendor.pk, event=WebhookEvent.JOB_SUCCEEDED, data={"id": "x"})
    queued = QueuedDelivery.objects.get()
    QueuedDelivery.objects.filter(pk=queued.pk).update(lane=Lane.IN_FLIGHT, dispatches=1)
    table = QueuedDelivery._meta.db_table
    # The lock goes after 1.5 s: longer than one lock wait (1 s), shorter than three.
    with rows_locked(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [queued.pk.hex], release_after_s=1.5):
        services.queued_delivery_run(queued_id=queued.pk, dispatch=1)
    deferred = QueuedDelivery.objects.get()
    assert deferred.lane == Lane.DEFERRED and deferred.attempt == 2
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
