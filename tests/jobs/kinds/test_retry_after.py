"""A retryable failure that says how long to wait is not retried sooner."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from processing.jobs import services
from processing.jobs.states import JobState
from processing.lib.errors import TemporaryError

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_job(vendor):
    upload = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n not decoded here", content_type="image/png")
    job = services.job_create(vendor=vendor, kind="transform", params={"width": 10}, upload=upload)
    return services.job_start(job_id=job.pk)


def test_the_retry_waits_at_least_the_retry_after(running_job):
    error = TemporaryError("busy", code="ai_rate_limited", retry_after_s=120)
    before = timezone.now()
    assert services.job_fail(job=running_job, run_token=running_job.run_token, error=error) == JobState.QUEUED
    running_job.refresh_from_db()
    assert (running_job.not_before - before).total_seconds() >= 119
    assert running_job.attempt_errors[-1]["code"] == "ai_rate_limited"


def test_without_retry_after_the_backoff_applies(running_job):
    error = TemporaryError("flaky", code="url_unavailable")
    before = timezone.now()
    services.job_fail(job=running_job, run_token=running_job.run_token, error=error)
    running_job.refresh_from_db()
    assert (running_job.not_before - before).total_seconds() < 5, "transform's test backoff is 0.2 s"
