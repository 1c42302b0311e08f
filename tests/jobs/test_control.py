"""Cancel and retry, one job or many: every path announces each job it changed the same way,
in a constant number of statements per chunk of jobs."""

import json
import time
from contextlib import contextmanager

import pytest

from processing.jobs import events, selectors, services, signals
from processing.jobs.events import batch_channel, job_channel
from processing.jobs.models import Job
from processing.lib.errors import InvalidImage
from processing.lib.redis import get_redis
from tests.factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(vendor):
    return services.batch_create(vendor=vendor, kind="sleepy", records=[make_record(vendor) for _ in range(3)])


@pytest.fixture
def finished_signals():
    sent = []

    def receive(sender, job, state, **kwargs):
        sent.append((job.pk, state))

    signals.job_finished.connect(receive, dispatch_uid="test_control")
    yield sent
    signals.job_finished.disconnect(dispatch_uid="test_control")


class Notices:
    """What the live streams of some jobs and their batch would hear."""

    def __init__(self, channels):
        self.pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(*channels)
        while self.pubsub.get_message(timeout=0.2) is None and not self.pubsub.subscribed:
            pass

    def channels(self, wait_s=1.0) -> dict[str, dict]:
        heard, ends = {}, time.monotonic() + wait_s
        while time.monotonic() < ends:
            message = self.pubsub.get_message(timeout=0.05)
            if message:
                heard[message["channel"].decode()] = json.loads(message["data"])
        return heard

    def close(self):
        self.pubsub.close()


@pytest.fixture
def notices():
    opened = []

    def listen(jobs, batch):
        events.listening_mark(vendor_id=batch.vendor_id)  # as an open stream of the vendor does
        listening = Notices([job_channel(job.pk) for job in jobs] + [batch_channel(batch.pk)])
        opened.append(listening)
        return listening

    yield listen
    for listening in opened:
        listening.close()


def fail(job):
    started = services.job_start(job_id=job.pk)
    services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("bad"))


def test_cancelling_a_batch_announces_each_job_it_cancelled(
    batch, finished_signals, notices, django_capture_on_commit_callbacks
):
    done, *waiting = batch.jobs.order_by("created_at")
    fail(done)
    finished_signals.clear()
    listening = notices(waiting, batch)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.batch_cancel(batch=batch) == 2

    assert sorted(finished_signals) == sorted((job.pk, "cancelled") for job in waiting)
    heard = listening.channels()
    assert set(heard) == {job_channel(job.pk) for job in waiting} | {batch_channel(batch.pk)}
    batch.refresh_from_db()
    assert batch.done == 3 and batch.finished_at is not None


def test_cancelling_one_job_and_many_announce_alike(batch, finished_signals, django_capture_on_commit_callbacks):
    first, second, third = batch.jobs.order_by("created_at")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_cancel(job=first)
        assert services.jobs_cancel(job_ids=[second.pk, third.pk, first.pk]) == 2
    assert sorted(finished_signals) == sorted((job.pk, "cancelled") for job in (first, second, third))


def test_retrying_many_tells_each_jobs_streams(batch, notices, django_capture_on_commit_callbacks):
    jobs = list(batch.jobs.order_by("created_at"))
    for job in jobs:
        fail(job)
    listening = notices(jobs, batch)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_retry(job_ids=[job.pk for job in jobs]) == 3

    heard = listening.channels()
    assert set(heard) == {job_channel(job.pk) for job in jobs} | {batch_channel(batch.pk)}
    assert heard[job_channel(jobs[0].pk)] == {"job": str(jobs[0].pk), "batch": str(batch.pk), "vendor": batch.vendor_id}
    batch.refresh_from_db()
    assert batch.done == 0 and set(batch.jobs.values_list("state", flat=True)) == {"queued"}


def test_retrying_one_job_tells_its_streams_as_retrying_many_does(batch, notices, django_capture_on_commit_callbacks):
    job = batch.jobs.first()
    fail(job)
    job.refresh_from_db()
    listening = notices([job], batch)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_retry(job=job)
    assert set(listening.channels()) == {job_channel(job.pk), batch_channel(batch.pk)}


def test_retrying_many_skips_jobs_that_cannot_be_retried(batch, django_capture_on_commit_callbacks):
    failed, cancelled, waiting = batch.jobs.order_by("created_at")
    fail(failed)
    services.job_cancel(job=cancelled)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_retry(job_ids=[failed.pk, cancelled.pk, waiting.pk]) == 2
    assert set(Job.objects.filter(batch=batch).values_list("state", flat=True)) == {"queued"}


class Refused(Exception):
    pass


def test_retrying_a_batchs_failed_jobs_charges_exactly_those_that_run_again(batch):
    failed, cancelled, waiting = batch.jobs.order_by("created_at")
    fail(failed)
    services.job_cancel(job=cancelled)
    charged = []

    @contextmanager
    def charge(count):
        charged.append(count)
        yield

    assert services.batch_retry_failed(batch=batch, charged=charge) == 1
    assert charged == [1], "the cancelled and the waiting job are not charged for"
    assert services.batch_retry_failed(batch=batch, charged=charge) == 0
    assert charged == [1], "nothing left to run again: no charge"


def test_a_refused_charge_runs_nothing_again(batch):
    jobs = list(batch.jobs.order_by("created_at"))
    for job in jobs:
        fail(job)

    @contextmanager
    def refuse(count):
        raise Refused(count)
        yield

    with pytest.raises(Refused):
        services.batch_retry_failed(batch=batch, charged=refuse)
    with pytest.raises(Refused):
        services.job_retry(job=Job.objects.get(pk=jobs[0].pk), charged=refuse)
    batch.refresh_from_db()
    assert batch.done == 3 and set(batch.jobs.values_list("state", flat=True)) == {"failed"}


def test_retrying_a_job_of_a_finished_batch_reopens_it_until_that_job_ends_again(
    batch, django_capture_on_commit_callbacks
):
    finished = []
    signals.batch_finished.connect(
        lambda sender, batch, **kw: finished.append(batch.pk), dispatch_uid="reopen", weak=False
    )
    try:
        first, *others = batch.jobs.order_by("created_at")
        with django_capture_on_commit_callbacks(execute=True):
            fail(first)
            services.jobs_cancel(job_ids=[job.pk for job in others])
        batch.refresh_from_db()
        assert batch.finished_at is not None and finished == [batch.pk]

        with django_capture_on_commit_callbacks(execute=True):
            assert services.job_retry(job=Job.objects.get(pk=first.pk))
        batch.refresh_from_db()
        assert batch.finished_at is None and batch.done == 2, "open again: its streams and lists see it running"
        assert selectors.batch_progress(batch=batch)["queued"] == 1

        with django_capture_on_commit_callbacks(execute=True):
            fail(Job.objects.get(pk=first.pk))
        batch.refresh_from_db()
        assert batch.finished_at is not None and finished == [batch.pk, batch.pk], "finished, and told, again"
    finally:
        signals.batch_finished.disconnect(dispatch_uid="reopen")
