import pytest

from processing.jobs import services
from tests.factories import make_job, succeed_job
from vendors import services as vendor_services
from vendors.thumbnails import record_thumbnail_make


@pytest.fixture
def stored_record(vendor):
    """A record of acme with everything a record can have in storage: its original, a result
    (a succeeded job), previews of both; and a job still waiting on it. The vendor is paused, so
    a worker running meanwhile (the session's shared one) takes none of its jobs."""
    vendor_services.vendor_set_paused(vendor=vendor, paused=True)
    finished = succeed_job(make_job(vendor, kind="sleepy"))
    record = finished.record
    record_thumbnail_make(record_id=record.pk, which="original")
    record_thumbnail_make(record_id=record.pk, which="processed")
    record.refresh_from_db()
    waiting = services.job_create(vendor=vendor, kind="sleepy", record=record)
    return record, finished, waiting
