"""A bug is not an outage. A fault of ours that meets a job again in the same place ends it
after the second attempt instead of burning every attempt on it: operators read one ERROR with
the traceback, the job id and the vendor; the vendor reads that Darkroom could not process the
image and that operators were told, and gets the background removal it was charged back. An
outage (an OSError, a lost database or Redis) is retried as before."""

import logging

import pytest

from processing.engine import runner
from processing.jobs.errors import INTERNAL_FAULT_REASON
from processing.jobs.models import Job
from processing.jobs.states import JobState
from tests.factories import image_upload
from tests.support.clients import client_for
from vendors import quotas

pytestmark = pytest.mark.django_db


def _removals_used(vendor) -> int:
    return next(usage.used for usage in quotas.quota_usage(vendor=vendor) if usage.name == quotas.REMOVE_BG)


def _submitted(owner) -> str:
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "remove_bg", "image": image_upload("photo.png")}, format="multipart"
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _errors_about(caplog, job_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and job_id in r.getMessage()]


def test_a_bug_met_twice_ends_the_job_tells_operators_once_and_gives_the_charge_back(
    owner, member, outsider, vendor, monkeypatch, caplog
):
    before = _removals_used(vendor)
    job_id = _submitted(owner)
    assert _removals_used(vendor) == before + 1

    def bug(job):
        raise ValueError("Image rows are not contiguous in memory.")

    monkeypatch.setattr(runner, "_read_input", bug)
    with caplog.at_level(logging.WARNING):
        runner.job_run(job_id=job_id, kind="remove_bg")
        assert Job.objects.get(pk=job_id).state == JobState.QUEUED, "the first time, it may be an outage"
        assert not _errors_about(caplog, job_id)
        runner.job_run(job_id=job_id, kind="remove_bg")

    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.FAILED
    assert job.attempts == 2 < job.max_attempts, "not a third identical attempt"
    errors = _errors_about(caplog, job_id)
    assert len(errors) == 1, "operators are told once"
    told = errors[0].getMessage()
    assert "Traceback" in told and "ValueError: Image rows are not contiguous" in told and "_read_input" in told
    assert str(vendor.pk) in told
    assert _removals_used(vendor) == before, "the removal it was charged is given back"

    for user in (owner, member):
        answer = client_for(user).get(f"/api/v1/jobs/{job_id}/").json()
        assert answer["error"] == {"code": "internal_error", "message": INTERNAL_FAULT_REASON}
        assert (
            "could not process" in answer["error"]["message"]
            and "operators have been told" in answer["error"]["message"]
        )
        assert "contiguous" not in str(answer)
    assert client_for(outsider).get(f"/api/v1/jobs/{job_id}/").status_code == 404


def test_an_outage_is_retried_to_the_last_attempt_and_then_refunded(owner, vendor, monkeypatch, caplog):
    before = _removals_used(vendor)
    job_id = _submitted(owner)

    def disk_gone(job):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(runner, "_read_input", disk_gone)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            runner.job_run(job_id=job_id, kind="remove_bg")
            assert Job.objects.get(pk=job_id).state == JobState.QUEUED
        runner.job_run(job_id=job_id, kind="remove_bg")

    job = Job.objects.get(pk=job_id)
    assert (job.state, job.attempts, job.error_message) == (JobState.FAILED, 3, INTERNAL_FAULT_REASON)
    assert len(_errors_about(caplog, job_id)) == 1
    assert _removals_used(vendor) == before


def test_a_failure_of_the_vendors_photo_stays_charged(owner, vendor, chelsea_jpeg):
    before = _removals_used(vendor)
    corrupt = chelsea_jpeg[:600]  # a JPEG header and nothing after it: read only by the worker
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "remove_bg", "image": image_upload("photo.jpg", data=corrupt)}, format="multipart"
    )
    assert response.status_code == 202

    runner.job_run(job_id=response.json()["id"], kind="remove_bg")

    job = Job.objects.get(pk=response.json()["id"])
    assert (job.state, job.error_code) == (JobState.FAILED, "invalid_image")
    assert _removals_used(vendor) == before + 1
