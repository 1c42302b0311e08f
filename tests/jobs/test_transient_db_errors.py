"""Transient database errors in a state change are handled by the service itself, on the real
MariaDB: a lock wait that timed out (1205) is tried again, and a connection the server dropped
(KILL: 2006/2013) is reopened and the compare-and-set run once more."""

import pytest

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.row_locks import job_row_locked, kill_own_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job(vendor):
    return services.job_create(vendor=vendor, kind="isolated", params={}, record=make_record(vendor))


def test_a_lock_wait_timeout_in_job_start_is_tried_again(job):
    # The lock goes after 1.5 s: longer than one lock wait, shorter than three.
    with job_row_locked(job.pk, release_after_s=1.5):
        started = services.job_start(job_id=job.pk)
    assert started is not None and started.attempts == 1


def test_a_killed_connection_is_reopened_and_the_change_made_once(job):
    started = services.job_start(job_id=job.pk)
    kill_own_connection()
    from processing.lib.errors import InvalidImage

    assert services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("bad")) == "failed"
    job = Job.objects.get(pk=job.pk)
    assert job.state == "failed" and job.attempts == 1 and len(job.attempt_errors) == 1
