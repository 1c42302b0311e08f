"""Media storage that is full or unreachable while results are written is an outage the jobs wait
out: they go back to waiting with a backoff, their attempts are given back, and they succeed once
the storage returns, each with one result file. A real worker, a real failing write (the vendor's
results folder made unwritable: tests/support/storage.py)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from processing.jobs import services
from processing.jobs.models import Job, Lane
from processing.lib.errors import StorageUnavailable, TemporaryError
from processing.lib.outages import storage_fault
from tests.engine.conftest import wait_finished
from tests.factories import make_record
from tests.support.queues import ISOLATED_QUEUE
from tests.support.storage import unwritable
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)
STORAGE_ENV = {"JOB_STORAGE_RETRY_BASE_S": "0.5", "JOB_STORAGE_RETRY_MAX_S": "2"}


@pytest.mark.e2e
def test_jobs_submitted_while_the_storage_is_unwritable_wait_and_then_succeed(vendor_a):
    results = Path(settings.MEDIA_ROOT) / "results" / str(vendor_a.pk)
    worker = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STORAGE_ENV).start()
    try:
        with unwritable([results]):
            jobs = [
                services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
                for _ in range(6)
            ]
            ids = [job.pk for job in jobs]
            # Every job has tried to store its result at least twice and is waiting, none failed.
            wait_for(
                lambda: all(
                    len(errors) >= 2
                    for errors in Job.objects.filter(pk__in=ids).values_list("attempt_errors", flat=True)
                ),
                timeout=60,
                what="every job to meet the outage twice",
            )
            during = list(Job.objects.filter(pk__in=ids))
            assert not [job for job in during if job.state in ("failed", "succeeded")]
            assert {entry["code"] for job in during for entry in job.attempt_errors} == {"storage_unavailable"}
        finished = wait_finished(jobs, timeout=90)
    finally:
        worker.stop()
    for job in finished.values():
        assert job.state == "succeeded", (job.pk, job.error_code, job.attempt_errors)
        assert job.attempts == 1, "the waits for the storage used up no attempt"
        assert len(job.attempt_errors) >= 2
        _, files = default_storage.listdir(f"results/{vendor_a.pk}/{job.pk}")
        assert files == [job.result["name"].rsplit("/", 1)[1]], "one result file, no partial or empty one"
    log = worker.output()
    first = next(iter(finished))
    assert f"job {first} of vendor {vendor_a.pk}: result storage unavailable (EPERM" in log or (
        f"job {first} of vendor {vendor_a.pk}: result storage unavailable (EACCES" in log
    ), "operators read the outage with the job id and the vendor"


def test_storage_waits_have_their_own_budget_then_count_as_attempts(vendor_a, settings):
    settings.JOB_STORAGE_WAITS = 2
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    error = StorageUnavailable("the result storage is unavailable", detail="ENOSPC: No space left on device")
    for wait in range(2):
        started = services.job_start(job_id=job.pk)
        assert services.job_fail(job=started, run_token=started.run_token, error=error) == "queued"
        job.refresh_from_db()
        assert job.attempts == 0 and job.progress_stage == "waiting_storage"
        assert len(job.attempt_errors) == wait + 1
        assert job.not_before is not None
        Job.objects.filter(pk=job.pk).update(not_before=None, lane=Lane.WAITING)
    started = services.job_start(job_id=job.pk)
    assert services.job_fail(job=started, run_token=started.run_token, error=error) == "queued"
    job.refresh_from_db()
    assert job.attempts == 1 and job.progress_stage == "waiting_retry", "past its budget a wait is an attempt"


def test_what_counts_as_the_storage_being_away():
    import errno

    import botocore.exceptions
    import cloudinary.exceptions

    assert storage_fault(OSError(errno.ENOSPC, "No space left on device")).startswith("ENOSPC")
    assert storage_fault(PermissionError(errno.EACCES, "Permission denied"))
    assert storage_fault(OSError(errno.EROFS, "Read-only file system"))
    assert storage_fault(FileNotFoundError(errno.ENOENT, "No such file")) is None
    assert storage_fault(ValueError("a bug")) is None
    assert storage_fault(botocore.exceptions.EndpointConnectionError(endpoint_url="https://s3.example"))
    assert storage_fault(botocore.exceptions.ReadTimeoutError(endpoint_url="https://s3.example"))
    unavailable = {"Error": {"Code": "ServiceUnavailable"}, "ResponseMetadata": {"HTTPStatusCode": 503}}
    assert (
        storage_fault(botocore.exceptions.ClientError(unavailable, "PutObject")) == "S3 answered 503 ServiceUnavailable"
    )
    denied = {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    assert storage_fault(botocore.exceptions.ClientError(denied, "PutObject")) is None
    assert storage_fault(cloudinary.exceptions.GeneralError("server error"))
    assert storage_fault(cloudinary.exceptions.Error("Unexpected error - MaxRetryError()"))
    assert storage_fault(cloudinary.exceptions.BadRequest("Invalid image file")) is None
    assert storage_fault(TemporaryError("x")) is None  # a job's own retryable error is not storage
