"""Estimates come from how fast the kind's jobs have actually been finishing, not a constant."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processing.jobs import selectors
from processing.jobs.models import Batch, Job, Lane

pytestmark = pytest.mark.django_db


def finished_jobs(vendor, *, n, every_s, run_s, ending):
    """n succeeded transform jobs, one finishing every `every_s`, each having run `run_s`."""
    jobs = []
    for i in range(n):
        finished = ending - timedelta(seconds=every_s * (n - 1 - i))
        jobs.append(
            Job(
                vendor=vendor,
                kind="transform",
                state="succeeded",
                lane=Lane.DONE,
                started_at=finished - timedelta(seconds=run_s),
                finished_at=finished,
            )
        )
    Job.objects.bulk_create(jobs)


def test_the_bulk_estimate_is_the_backlog_at_the_observed_rate(vendor):
    # Two busy spells an hour apart, each finishing 10 jobs/s of 0.05 s runs (2 threads would
    # do 40/s; something else bounds the rate, and the estimate must say so).
    now = timezone.now()
    finished_jobs(vendor, n=30, every_s=0.1, run_s=0.05, ending=now - timedelta(hours=1))
    finished_jobs(vendor, n=30, every_s=0.1, run_s=0.05, ending=now)
    assert selectors.kind_throughput_per_s(kind="transform") == pytest.approx(10, rel=0.05)
    Job.objects.bulk_create([Job(vendor=vendor, kind="transform") for _ in range(150)])
    assert selectors.backlog_eta_s(kind="transform") == pytest.approx(15, rel=0.05)


def test_a_batch_eta_counts_the_jobs_waiting_ahead_of_it(vendor):
    finished_jobs(vendor, n=21, every_s=0.5, run_s=0.1, ending=timezone.now())  # 2 jobs/s
    Job.objects.bulk_create([Job(vendor=vendor, kind="transform") for _ in range(10)])
    batch = Batch.objects.create(vendor=vendor, kind="transform", total=4)
    Job.objects.bulk_create([Job(vendor=vendor, kind="transform", batch=batch) for _ in range(4)])
    progress = selectors.batch_progress(batch=batch)
    assert progress["eta_s"] == pytest.approx((10 + 4) / 2, rel=0.05)


def test_nothing_to_measure_from_gives_no_estimate(vendor):
    Job.objects.bulk_create([Job(vendor=vendor, kind="transform") for _ in range(3)])
    assert selectors.backlog_eta_s(kind="transform") is None


def test_a_running_jobs_estimate_is_from_its_own_progress(vendor):
    started = timezone.now() - timedelta(seconds=30)
    running = Job(vendor=vendor, kind="transform", state="running", started_at=started, progress_percent=25)
    assert selectors.job_eta_s(job=running) == pytest.approx(90, abs=1)  # a quarter in 30 s
    for unknown in (
        Job(vendor=vendor, kind="transform", state="running", started_at=started, progress_percent=0),
        Job(vendor=vendor, kind="transform", state="queued", progress_percent=25),
        Job(vendor=vendor, kind="transform", state="succeeded", started_at=started, progress_percent=100),
    ):
        assert selectors.job_eta_s(job=unknown) is None
