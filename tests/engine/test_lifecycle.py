"""Retries, dead letters, cancel and progress, through a real worker process."""

import uuid

import pytest

from processing.jobs import services
from tests.engine.conftest import sleepy_job_running, wait_finished
from tests.factories import make_record
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def flaky(vendor, record, fail_times):
    params = {"key": uuid.uuid4().hex, "fail_times": fail_times}
    return services.job_create(vendor=vendor, kind="flaky", params=params, record=record)


def test_a_retryable_failure_is_retried_and_each_attempt_is_kept(worker, vendor_a):
    job = wait_finished([flaky(vendor_a, make_record(vendor_a), fail_times=2)]).popitem()[1]
    assert job.state == "succeeded"
    assert job.attempts == 3
    assert [e["code"] for e in job.attempt_errors] == ["upstream_unavailable"] * 2
    assert job.result is not None


def test_a_job_that_uses_its_attempts_ends_failed_inspectable_and_can_be_rerun(worker, vendor_a):
    job = wait_finished([flaky(vendor_a, make_record(vendor_a), fail_times=3)]).popitem()[1]
    assert job.state == "failed"
    assert job.attempts == job.max_attempts == 3
    assert job.error_code == "upstream_unavailable" and "endpoint is down" in job.error_message
    assert "TemporaryError" in job.error_traceback
    assert job.started_at and job.finished_at
    at = [e["at"] for e in job.attempt_errors]
    assert at == sorted(at) and len(at) == 3

    assert services.job_retry(job=job)  # the dead letter, run again on demand
    job = wait_finished([job]).popitem()[1]
    assert job.state == "succeeded" and job.attempts == 1


def test_a_waiting_job_cancelled_never_runs(worker, vendor_a):
    record = make_record(vendor_a)
    blockers = [
        services.job_create(vendor=vendor_a, kind="sleepy", params={"seconds": 1.0}, record=record) for _ in range(3)
    ]
    waiting = services.job_create(vendor=vendor_a, kind="sleepy", params={"seconds": 0}, record=record)
    assert services.job_cancel(job=waiting)
    wait_finished(blockers)
    waiting.refresh_from_db()
    assert waiting.state == "cancelled" and waiting.started_at is None and waiting.attempts == 0


def test_a_running_job_stops_at_its_next_stage_and_keeps_no_result(worker, vendor_a):
    job = sleepy_job_running(vendor_a)
    assert services.job_cancel(job=job)
    # The worker notices at its next progress report (every 0.2 s), long before the 4 s job ends.
    wait_for(
        lambda: f"job {job.pk} cancelled while running" in worker.output(), timeout=6, what="the worker to stop the job"
    )
    job.refresh_from_db()
    assert job.state == "cancelled" and job.result is None
    job.record.refresh_from_db()
    assert not job.record.processed


def test_progress_is_readable_while_a_job_runs(worker, vendor_a):
    job = services.job_create(
        vendor=vendor_a, kind="sleepy", params={"seconds": 2, "steps": 5}, record=make_record(vendor_a)
    )
    seen = set()

    def midway():
        job.refresh_from_db()
        if job.state == "running" and job.progress_stage == "processing":
            seen.add((job.progress_percent, job.progress_message))
        return len(seen) >= 2

    wait_for(midway, interval=0.05, what="two progress reports")
    assert all(20 <= percent < 100 for percent, _ in seen)
    assert any(message.startswith("step ") for _, message in seen)
    assert wait_finished([job]).popitem()[1].progress_percent == 100


def test_cancelling_a_batch_cancels_what_has_not_finished(worker, vendor_a):
    records = [make_record(vendor_a) for _ in range(6)]
    batch = services.batch_create(vendor=vendor_a, kind="sleepy", params={"seconds": 1}, records=records)
    wait_for(lambda: batch.jobs.filter(state="running").exists(), what="a running job")
    cancelled = services.batch_cancel(batch=batch)
    jobs = wait_finished(list(batch.jobs.all()))
    states = [job.state for job in jobs.values()]
    assert cancelled >= 4
    assert states.count("cancelled") == cancelled
    assert set(states) <= {"cancelled", "succeeded"}
    batch.refresh_from_db()
    assert batch.finished_at is not None
