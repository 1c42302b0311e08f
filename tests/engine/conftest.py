import signal

import pytest

from processing.jobs import services
from processing.jobs.models import Job
from processing.jobs.states import FINISHED
from tests.factories import make_record, make_vendor
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

# Workers whose jobs' leases end soon after they die, so a stalled job is taken back quickly.
LEASE_S = 2
STALL_ENV = {"JOB_LEASE_S": str(LEASE_S), "JOB_LEASE_RENEW_S": "0.3", "LOST_MESSAGE_CHECK_S": "1"}


@pytest.fixture
def vendor_a(transactional_db):
    return make_vendor("vendor-a", plan="unlimited")


@pytest.fixture
def vendor_b(transactional_db):
    return make_vendor("vendor-b", plan="standard")


def wait_finished(jobs, timeout: float = 120):
    ids = [job.pk for job in jobs]
    wait_for(
        lambda: Job.objects.filter(pk__in=ids, state__in=FINISHED).count() == len(ids),
        timeout=timeout,
        what=f"{len(ids)} jobs to finish",
    )
    return {job.pk: job for job in Job.objects.filter(pk__in=ids)}


def sleepy_job_running(vendor) -> Job:
    """A 10 s `sleepy` job of `vendor`'s, once the worker has run a fifth of it."""
    job = services.job_create(
        vendor=vendor, kind="sleepy", params={"seconds": 10, "steps": 50}, record=make_record(vendor)
    )
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, state="running", progress_percent__gt=20).exists(),
        what="the job to be running",
    )
    job.refresh_from_db()
    return job


def job_left_by_a_killed_worker(vendor) -> Job:
    """A job a worker was running (a quarter done) when it was killed with SIGKILL."""
    first = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STALL_ENV).start()
    try:
        job = services.job_create(
            vendor=vendor, kind="isolated", params={"seconds": 3, "steps": 15}, record=make_record(vendor)
        )
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, state="running", progress_percent__gt=25).exists(),
            what="the job to be running",
        )
    finally:
        first.kill(signal.SIGKILL)
    return job
