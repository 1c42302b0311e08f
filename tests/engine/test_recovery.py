"""A worker killed with SIGKILL mid-job loses nothing: the job is noticed, re-queued and its
result applied once. These tests run their own workers on a queue the shared one ignores."""

import signal

import pytest
from django.core.files.storage import default_storage

from processing.jobs import services
from processing.jobs.models import Job, Lane
from tests.engine.conftest import wait_finished
from tests.factories import make_record
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
STALL_ENV = {"JOB_STALL_TIMEOUT_S": "2", "DISPATCH_TICK_S": "0.2"}


def test_a_job_survives_its_worker_being_killed_and_is_applied_once(vendor_a):
    first = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STALL_ENV).start()
    try:
        job = services.job_create(
            vendor=vendor_a, kind="isolated", params={"seconds": 3, "steps": 15}, record=make_record(vendor_a)
        )
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, state="running", progress_percent__gt=25).exists(),
            what="the job to be running",
        )
    finally:
        first.kill(signal.SIGKILL)
    assert Job.objects.get(pk=job.pk).state == "running"  # the dead worker could not record anything

    second = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STALL_ENV).start()
    try:
        job = wait_finished([job], timeout=60).popitem()[1]
    finally:
        second.stop()
    assert job.state == "succeeded"
    assert job.attempts == 2, "the killed run counts as an attempt and the job ran again"
    _, files = default_storage.listdir(f"results/{vendor_a.pk}/{job.pk}")
    assert files == [job.result["name"].rsplit("/", 1)[1]], "the result is stored and applied once"
    job.record.refresh_from_db()
    assert job.record.processed.name == job.result["name"]


def test_a_stalled_running_job_is_requeued_within_the_stall_timeout(vendor_a, settings):
    """No worker at all: the sweep alone must put the job back in line."""
    from datetime import timedelta

    from django.utils import timezone

    from processing.jobs.services import jobs_recover_stalled

    settings.JOB_STALL_TIMEOUT_S = 5
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    started = services.job_start(job_id=job.pk)
    assert jobs_recover_stalled() == 0, "a job with a fresh heartbeat is left alone"
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=6))
    assert jobs_recover_stalled() == 1
    job.refresh_from_db()
    assert job.state == "queued" and job.dispatched_at is None and job.run_token is None
    # The dead run can no longer apply anything.
    with pytest.raises(services.JobCancelled):
        services.job_report_progress(job_id=job.pk, run_token=started.run_token, stage="x", percent=50)


def test_a_dispatched_message_that_never_arrives_is_dispatched_again(vendor_a, settings):
    from datetime import timedelta

    from django.utils import timezone

    from processing.jobs.services import jobs_recover_stalled

    settings.JOB_STALL_TIMEOUT_S = 5
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    # As admission leaves a job it handed to Dramatiq 6 s ago.
    Job.objects.filter(pk=job.pk).update(lane=Lane.IN_FLIGHT, dispatched_at=timezone.now() - timedelta(seconds=6))
    assert jobs_recover_stalled() == 1
    job.refresh_from_db()
    assert job.state == "queued" and job.dispatched_at is None and job.lane == Lane.WAITING
