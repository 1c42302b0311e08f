"""Event streams cannot exhaust Redis or live forever: at most EVENTS_MAX_STREAMS_PER_VENDOR
open at once per vendor (429 beyond, a slot freed when a stream closes), and a stream closes after
EVENTS_MAX_STREAM_S."""

import threading

import pytest

from tests.api.events.sse import events_of
from tests.factories import make_job
from tests.support.clients import client_for
from vendors.services import vendor_set_paused

SSE = {"HTTP_ACCEPT": "text/event-stream"}


@pytest.mark.django_db(transaction=True)  # closing a response closes the request's DB connection
def test_a_vendor_past_its_open_streams_gets_429_until_one_closes(owner, vendor, settings):
    settings.EVENTS_MAX_STREAMS_PER_VENDOR = 2
    client = client_for(owner)
    job = make_job(vendor)
    first, second = (client.get(f"/api/v1/events/?job={job.pk}", **SSE) for _ in range(2))
    opened = [iter(first.streaming_content), iter(second.streaming_content)]
    for stream in opened:
        next(stream)  # the streams are open and following

    refused = client.get(f"/api/v1/events/?job={job.pk}", **SSE)

    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_streams"
    assert int(refused["Retry-After"]) >= 1
    first.close()
    assert client.get(f"/api/v1/events/?job={job.pk}", **SSE).status_code == 200
    second.close()


@pytest.mark.django_db(transaction=True)  # the stream reads the job from another thread
def test_a_stream_closes_after_its_longest_life_without_claiming_the_job_ended(owner, vendor, settings):
    settings.EVENTS_MAX_STREAM_S = 1
    settings.EVENTS_REREAD_S = 0.2
    vendor_set_paused(vendor=vendor, paused=True)  # its job waits, even with a test worker running
    job = make_job(vendor)
    response = client_for(owner).get(f"/api/v1/events/?job={job.pk}", **SSE)
    body = []
    reader = threading.Thread(target=lambda: body.append(b"".join(response.streaming_content)), daemon=True)

    reader.start()
    reader.join(timeout=10)

    assert not reader.is_alive(), "the stream was still open after 10 s"
    names = [event.name for event in events_of(body[0])]
    assert "end" not in names and names[0] == "job"
