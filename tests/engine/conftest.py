import pytest

from processing.jobs.models import Job
from processing.jobs.states import FINISHED
from tests.factories import make_vendor
from tests.support.waiting import wait_for


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
