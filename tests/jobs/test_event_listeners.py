"""Change notices go out only while one of the vendor's event streams is open: a job's start and
end cost no Redis round trip for nobody (issue 25), and a stream that opens is heard at once."""

import time
import uuid

import pytest

from processing.jobs import events
from processing.lib.redis import get_redis
from tests.factories import make_vendor

pytestmark = pytest.mark.django_db(transaction=True)  # notices go out on commit


def heard_on(channel: str, publish) -> bool:
    pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    while pubsub.get_message(timeout=0.2) is None and not pubsub.subscribed:
        pass
    publish()
    ends = time.monotonic() + 0.5
    try:
        while time.monotonic() < ends:
            if pubsub.get_message(timeout=0.05):
                return True
        return False
    finally:
        pubsub.close()


def test_a_vendors_notices_wait_for_one_of_its_streams(vendor, clean_redis):
    other_vendor = make_vendor("globex")
    job_id = uuid.uuid4()
    channel = events.job_channel(job_id)

    assert not heard_on(channel, lambda: events.publish_change(job_id=job_id, vendor_id=vendor.pk))
    events.listening_mark(vendor_id=other_vendor.pk)  # another vendor's stream says nothing of this one
    assert not heard_on(channel, lambda: events.publish_change(job_id=job_id, vendor_id=vendor.pk))

    events.listening_mark(vendor_id=vendor.pk)
    assert heard_on(channel, lambda: events.publish_change(job_id=job_id, vendor_id=vendor.pk))


def test_a_notice_of_no_vendor_always_goes_out(clean_redis):
    job_id = uuid.uuid4()
    assert heard_on(events.job_channel(job_id), lambda: events.publish_change(job_id=job_id))


def test_a_worker_that_knew_nobody_listened_hears_the_first_stream_open(vendor, clean_redis):
    job_id = uuid.uuid4()
    events.listeners_heard(hearing=True)  # as a worker's wake-up listener does once subscribed
    try:
        assert not heard_on(
            events.job_channel(job_id), lambda: events.publish_change(job_id=job_id, vendor_id=vendor.pk)
        )
        events.listening_mark(vendor_id=vendor.pk)
        events.listeners_heard(hearing=True)  # what the worker does on LISTENERS_CHANNEL
        assert heard_on(events.job_channel(job_id), lambda: events.publish_change(job_id=job_id, vendor_id=vendor.pk))
    finally:
        events.listeners_heard(hearing=False)
