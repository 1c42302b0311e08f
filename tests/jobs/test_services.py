"""State changes of a job, as a worker and a client would cause them."""

import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs import services
from processing.jobs.models import Job
from processing.jobs.states import InvalidTransition, JobState
from processing.lib.errors import InvalidImage, TemporaryError
from processing.lib.imaging.output import ImageOutput

pytestmark = pytest.mark.django_db

OUTPUT = ImageOutput(data=b"\x89PNG fake bytes", content_type="image/png", width=4, height=3)


@pytest.fixture
def job(vendor):
    upload = SimpleUploadedFile("a.jpg", b"\xff\xd8\xff not really decoded here", content_type="image/jpeg")
    return services.job_create(vendor=vendor, kind="transform", params={"width": 10}, upload=upload)


def test_a_job_is_applied_once_however_often_it_finishes(job):
    started = services.job_start(job_id=job.pk)
    assert started.state == JobState.RUNNING and started.attempts == 1
    assert services.job_succeed(job=started, run_token=started.run_token, output=OUTPUT)
    # A second delivery of the same message finds nothing to do...
    assert services.job_start(job_id=job.pk) is None
    # ...and a late finisher holding an old token cannot apply its result.
    assert not services.job_succeed(job=started, run_token=uuid.uuid4(), output=OUTPUT)
    job.refresh_from_db()
    job.record.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1
    assert job.record.processed.name == job.result["name"]
    assert default_storage.open(job.result["name"]).read() == OUTPUT.data
    assert len(default_storage.listdir(f"results/{job.vendor_id}/{job.pk}")[1]) == 1, "the loser's file is removed"


def test_a_cancelled_running_job_stops_at_the_next_stage_and_keeps_no_result(job):
    started = services.job_start(job_id=job.pk)
    assert services.job_cancel(job=started)
    with pytest.raises(services.JobCancelled):
        services.job_report_progress(job_id=job.pk, run_token=started.run_token, stage="processing", percent=50)
    assert not services.job_succeed(job=started, run_token=started.run_token, output=OUTPUT)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.result is None


def test_a_permanent_error_fails_at_once(job):
    started = services.job_start(job_id=job.pk)
    state = services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("not an image"))
    job.refresh_from_db()
    assert state == JobState.FAILED == job.state
    assert (job.error_code, job.error_message, job.attempts) == ("invalid_image", "not an image", 1)
    assert job.attempt_errors[0]["code"] == "invalid_image"


def test_a_retryable_error_queues_again_until_attempts_run_out(job):
    for attempt in range(1, job.max_attempts + 1):
        started = services.job_start(job_id=job.pk)
        assert started is not None, f"attempt {attempt} should start"
        Job.objects.filter(pk=job.pk).update(not_before=None)
        state = services.job_fail(job=started, run_token=started.run_token, error=TemporaryError("endpoint down"))
        assert state == (JobState.QUEUED if attempt < job.max_attempts else JobState.FAILED)
    job.refresh_from_db()
    assert job.attempts == job.max_attempts
    assert [e["attempt"] for e in job.attempt_errors] == [1, 2, 3]


def test_finished_jobs_cannot_be_cancelled_but_failed_ones_can_be_retried(job):
    started = services.job_start(job_id=job.pk)
    services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("bad"))
    job.refresh_from_db()
    with pytest.raises(InvalidTransition):
        services.job_cancel(job=job)
    assert services.job_retry(job=job)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0 and job.error_code == ""


def test_the_same_idempotency_key_gives_the_same_job(vendor):
    def submit():
        claim = services.idempotency_key_claim(vendor=vendor, key="k-1", fingerprint="a" * 64)
        if claim.state == "done":
            return claim.job
        upload = SimpleUploadedFile("a.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
        return services.job_create(vendor=vendor, kind="transform", upload=upload, idempotency=claim)

    assert submit().pk == submit().pk
    assert Job.objects.count() == 1
    with pytest.raises(services.IdempotencyKeyMismatch):
        services.idempotency_key_claim(vendor=vendor, key="k-1", fingerprint="b" * 64)


def test_a_batch_refuses_a_bad_url_whole(vendor):
    from processing.lib.errors import InvalidOptions

    with pytest.raises(InvalidOptions):
        services.batch_create(vendor=vendor, kind="transform", image_urls=["https://ok.example/a.jpg", "ftp://x/y"])
    assert not Job.objects.exists()
