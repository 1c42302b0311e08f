"""One vendor's webhooks cannot delay another's: deliveries wait as rows and are handed to the
webhooks queue a few per vendor at a time, round-robin between vendors (issue 22, point 5)."""

import pytest

from processing.jobs import services as job_services
from processing.jobs.models import Job
from processing.webhooks import services
from tests.factories import make_record, make_vendor
from tests.support.waiting import wait_for
from tests.webhooks.receiver import Receiver

SLOW_ENDPOINTS = 5
FLOOD_JOBS = 40


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_vendors_flood_of_slow_deliveries_does_not_delay_another_vendors_delivery(worker, vendor, settings):
    """Vendor A: 5 endpoints on a receiver slower than WEBHOOK_TIMEOUT_S (every attempt times
    out and is retried) and 40 finished jobs, 200 deliveries. In one FIFO queue served by the
    shared worker's 2 threads, vendor B's delivery would wait behind 200 attempts of 5 s
    (~500 s); it arrives within seconds, and A's receivers never hold more than
    WEBHOOK_VENDOR_IN_FLIGHT of the worker's threads."""
    other = make_vendor("globex")
    slow_paths = [f"/slow/{n}" for n in range(SLOW_ENDPOINTS)]
    with Receiver(paths=slow_paths) as slow, Receiver() as fast:
        slow.sleep_s = settings.WEBHOOK_TIMEOUT_S + 1
        for path in slow_paths:
            services.endpoint_create(vendor=vendor, url=slow.server.url(path), events=["job.succeeded"])
        records = [make_record(vendor) for _ in range(FLOOD_JOBS)]
        job_services.batch_create(vendor=vendor, kind="sleepy", records=records, params={"seconds": 0.01})
        wait_for(
            lambda: Job.objects.filter(vendor=vendor, state="succeeded").count() == FLOOD_JOBS,
            timeout=120,
            interval=0.2,
            what="vendor A's jobs to finish (and their 200 deliveries to be queued)",
        )
        wait_for(lambda: slow.received, timeout=30, what="vendor A's deliveries to start")

        services.endpoint_create(vendor=other, url=fast.url, events=["job.succeeded"])
        job = job_services.job_create(vendor=other, kind="sleepy", record=make_record(other), params={"seconds": 0.01})
        (delivery,) = fast.wait_for(1, timeout=30)
        job.refresh_from_db()
        delay = delivery.at - job.finished_at.timestamp()
        flood_attempts = len(slow.received)

    assert delay < 3, f"vendor B's job.succeeded arrived {delay:.1f} s after its job finished"
    assert flood_attempts < SLOW_ENDPOINTS * FLOOD_JOBS, "A's flood was still under way"
    assert 1 <= attempts_at_once(vendor) <= settings.WEBHOOK_VENDOR_IN_FLIGHT


def attempts_at_once(vendor) -> int:
    """The most attempts of the vendor's deliveries under way at one time, from the delivery
    log (each row: when the attempt ended, and how long it took)."""
    from processing.webhooks.models import WebhookDelivery

    edges = []
    for ended, duration_ms in WebhookDelivery.objects.filter(endpoint__vendor=vendor).values_list(
        "created_at", "duration_ms"
    ):
        end = ended.timestamp()
        edges += [(end - duration_ms / 1000, 1), (end, -1)]
    now = most = 0
    for _, step in sorted(edges):
        now += step
        most = max(most, now)
    return most


@pytest.fixture
def queue_held(db, clean_redis):
    """The test's transaction holds the webhooks queue's lock (waiting for a pass under way to
    end): the shared worker's ticks, if it runs in this session, hand out nothing meanwhile,
    and the test's deliveries, never committed, are invisible to it."""
    from processing.webhooks.admission import QUEUE_NAME
    from processing.webhooks.models import DeliveryQueue

    DeliveryQueue.objects.select_for_update().get_or_create(name=QUEUE_NAME)


@pytest.fixture
def two_vendors(vendor, queue_held):
    return vendor, make_vendor("globex")


def test_admission_hands_out_a_few_per_vendor_and_the_others_first(two_vendors, settings):
    """A's 12 deliveries were queued first; B's one is handed out in the same pass, and A gets
    no more than its cap, whatever its backlog."""
    from processing.jobs.models import Lane
    from processing.webhooks.admission import deliveries_dispatch
    from processing.webhooks.models import QueuedDelivery

    settings.WEBHOOK_VENDOR_IN_FLIGHT, settings.WEBHOOK_QUEUE_CAPACITY = 2, 3
    a, b = two_vendors
    for n in range(3):
        services.endpoint_create(vendor=a, url=f"http://127.0.0.1:9/a/{n}")
    services.endpoint_create(vendor=b, url="http://127.0.0.1:9/b")
    for n in range(4):
        services.deliveries_queue(vendor_id=a.pk, event="job.succeeded", data={"n": n})
    services.deliveries_queue(vendor_id=b.pk, event="job.succeeded", data={})

    assert deliveries_dispatch() == 3
    in_flight = QueuedDelivery.objects.filter(lane=Lane.IN_FLIGHT)
    assert sorted(in_flight.values_list("vendor_id", flat=True)) == sorted([a.pk, a.pk, b.pk])
    assert set(in_flight.filter(vendor=a).values_list("payload__data__n", flat=True)) == {0}, "A's oldest first"
    assert deliveries_dispatch() == 0, "the queue is at capacity"
    assert QueuedDelivery.objects.filter(vendor=a, lane=Lane.WAITING).count() == 10


def test_a_retry_waiting_for_its_backoff_holds_no_slot(vendor, queue_held, settings):
    from processing.jobs.models import Lane
    from processing.webhooks.admission import deliveries_dispatch
    from processing.webhooks.models import QueuedDelivery

    settings.WEBHOOK_VENDOR_IN_FLIGHT, settings.WEBHOOK_MIN_BACKOFF_MS = 1, 60_000
    services.endpoint_create(vendor=vendor, url="http://127.0.0.1:9/refused")  # nothing listens
    for n in range(2):
        services.deliveries_queue(vendor_id=vendor.pk, event="job.succeeded", data={"n": n})
    assert deliveries_dispatch() == 1
    first = QueuedDelivery.objects.get(lane=Lane.IN_FLIGHT)

    outcome = services.queued_delivery_run(queued_id=first.pk, dispatch=first.dispatches)  # as its message would

    assert outcome.retry and outcome.delivery.status_code is None
    first.refresh_from_db()
    assert (first.lane, first.attempt) == (Lane.DEFERRED, 2)
    assert deliveries_dispatch() == 1, "the vendor's next delivery goes while the first waits"
    assert QueuedDelivery.objects.get(lane=Lane.IN_FLIGHT).payload["data"] == {"n": 1}
    assert services.queued_delivery_run(queued_id=first.pk, dispatch=first.dispatches) is None, "superseded"


def test_a_message_queued_before_the_upgrade_joins_the_line_as_a_row(vendor, queue_held):
    """A `deliver_webhook` message left in Redis by the version before: taken in as a row with
    its delivery id (the receivers' webhook-id) and handed out by admission like the rest."""
    from processing.jobs.models import Lane
    from processing.webhooks.models import QueuedDelivery
    from processing.webhooks.tasks import deliver_webhook

    endpoint = services.endpoint_create(vendor=vendor, url="http://127.0.0.1:9/hook")
    delivery_id = "0b9c6a52-3f1e-4b8e-9a6d-2f6c1f4e8a11"
    for _ in range(2):  # delivered twice by the broker: one row
        deliver_webhook.fn(endpoint.pk, delivery_id, "job.succeeded", {"type": "job.succeeded", "data": {}})

    queued = QueuedDelivery.objects.get()
    assert str(queued.pk) == delivery_id and queued.attempt == 1 and queued.vendor_id == vendor.pk
    assert queued.lane == Lane.IN_FLIGHT, "handed to the webhooks queue by admission"
