"""Priorities and fairness through the real dispatcher, Redis and a real worker process.
Small numbers here; bench/engine_fairness.py runs the sizes of the issue."""

import pytest
from django.conf import settings
from django.db import transaction

from processing.jobs import services
from processing.jobs.models import Job, KindQueue
from tests.engine.conftest import wait_finished
from tests.factories import make_record, make_vendor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CAPACITY = settings.JOB_QUEUE_CAPACITY["sleepy"]


def submit(vendor, record, n, *, seconds=0.15, priority=None):
    """n jobs in one insert, so they are all waiting before the first one ends."""
    batch = services.batch_create(
        vendor=vendor, kind="sleepy", params={"seconds": seconds}, records=[record] * n, priority=priority
    )
    return list(batch.jobs.all())


def still_waiting(jobs) -> set:
    """The jobs not yet admitted once the newer job is committed. A pass in progress may have read
    the waiting vendors before that commit; it holds its kind's KindQueue row until it commits, so
    this waits for it (and any later pass sees the newer job) before reading, with row locks."""
    with transaction.atomic():
        KindQueue.objects.select_for_update().filter(kind=jobs[0].kind).exists()
        rows = Job.objects.select_for_update().filter(pk__in=[j.pk for j in jobs], dispatched_at__isnull=True)
        return set(rows.values_list("pk", flat=True))


def test_a_high_job_starts_before_the_normal_jobs_waiting_ahead_of_it(worker, vendor_a):
    record = make_record(vendor_a)
    normals = submit(vendor_a, record, 25)
    high = submit(vendor_a, record, 1, priority="high")[0]
    waiting_ahead = still_waiting(normals)
    assert len(waiting_ahead) >= 15, "most normal jobs must still be waiting when the high one arrives"

    jobs = wait_finished([*normals, high])
    assert all(job.state == "succeeded" for job in jobs.values())
    admitted_before = [pk for pk in waiting_ahead if jobs[pk].dispatched_at < jobs[high.pk].dispatched_at]
    assert admitted_before == [], f"{len(admitted_before)} waiting normal jobs were admitted before the high one"
    # Only what was admitted alongside it may run first: the worker's threads take a pass's
    # messages at the same moment.
    started_before = [pk for pk in waiting_ahead if jobs[pk].started_at < jobs[high.pk].started_at]
    assert len(started_before) < CAPACITY, f"{len(started_before)} waiting normal jobs started before the high one"


def test_one_vendors_flood_does_not_starve_another_vendor(worker, vendor_a, vendor_b):
    flood = submit(vendor_a, make_record(vendor_a), 40)
    lone = submit(vendor_b, make_record(vendor_b), 1)[0]
    waiting_ahead = still_waiting(flood)

    jobs = wait_finished([*flood, lone])
    lone = jobs[lone.pk]
    admitted_before = [pk for pk in waiting_ahead if jobs[pk].dispatched_at < lone.dispatched_at]
    assert admitted_before == [], f"{len(admitted_before)} of vendor A's waiting jobs were admitted first"
    started_after = sum(1 for job in flood if jobs[job.pk].started_at > lone.started_at)
    assert started_after >= 40 - 2 * CAPACITY - 5, "vendor B must not wait for vendor A's backlog"


def test_a_vendor_never_has_more_jobs_in_flight_than_its_cap(worker, transactional_db):
    capped = make_vendor("capped", plan="unlimited")
    capped.limit_overrides = {"max_in_flight": 1}
    capped.save()
    jobs = wait_finished(submit(capped, make_record(capped), 6, seconds=0.2))
    spans = sorted((job.started_at, job.finished_at) for job in jobs.values())
    assert all(state == "succeeded" for state in (j.state for j in jobs.values()))
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, "two jobs of a vendor capped at 1 ran at the same time"


def test_a_paused_vendors_jobs_hold_and_run_after_resume(worker, vendor_a):
    from vendors.services import vendor_set_paused

    vendor_set_paused(vendor=vendor_a, paused=True)
    jobs = submit(vendor_a, make_record(vendor_a), 3, seconds=0.05)
    handed_to_dramatiq = Job.objects.filter(pk__in=[j.pk for j in jobs], dispatched_at__isnull=False)
    assert not handed_to_dramatiq.exists()
    vendor_set_paused(vendor=vendor_a, paused=False)
    done = wait_finished(jobs)
    assert {job.state for job in done.values()} == {"succeeded"}


def test_a_kinds_global_rate_limit_spreads_starts_over_time(worker, vendor_a):
    per_second = settings.JOB_RATE_LIMITS_PER_S["limited"]
    record = make_record(vendor_a)
    jobs = [
        services.job_create(vendor=vendor_a, kind="limited", params={"seconds": 0}, record=record) for _ in range(20)
    ]
    done = wait_finished(jobs)
    starts = sorted(job.started_at.timestamp() for job in done.values())
    # Unlimited, 20 no-op jobs start within a fraction of a second; at 5/s in 1 s windows they
    # need at least three window boundaries.
    assert starts[-1] - starts[0] >= 2.0
    for i, start in enumerate(starts):
        within_a_second = [s for s in starts[i:] if s - start < 1.0]
        assert len(within_a_second) <= 2 * per_second
