"""The usage ledger counts what happened, once (issue 23, point 2), through real workers: a job
whose worker was killed and which ran again, a message delivered twice, retries automatic and by
hand, a cancel after start, a pipeline's steps, a batch; and it outlives the job rows (retention,
record deletion) and, as USAGE_ON_VENDOR_DELETE says, its vendor."""

import time
import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from processing.engine.messages import send_job
from processing.jobs import selectors, services, usage
from processing.jobs.models import Job, UsageDay
from processing.jobs.usage import COUNTERS, pseudonym
from tests.engine.conftest import STALL_ENV, job_left_by_a_killed_worker, sleepy_job_running, wait_finished
from tests.factories import make_record, make_vendor
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def ledger(vendor, kind: str) -> dict[str, int]:
    """The vendor's totals of `kind` over the last two days (a test may straddle midnight UTC)."""
    today = timezone.now().date()
    rows = list(selectors.usage_days(vendor=vendor, start=today - timedelta(days=1), end=today, kind=kind))
    return selectors.usage_totals(rows)["kinds"].get(kind, dict.fromkeys(COUNTERS, 0))


def counts(vendor, kind: str, *names: str) -> dict[str, int]:
    totals = ledger(vendor, kind)
    return {name: totals[name] for name in names}


JOBS = ("submitted", "succeeded", "failed", "cancelled", "images")


def test_a_job_whose_worker_is_killed_and_runs_again_counts_once(vendor_a):
    job = job_left_by_a_killed_worker(vendor_a)
    assert counts(vendor_a, "isolated", *JOBS) == dict(submitted=1, succeeded=0, failed=0, cancelled=0, images=0)

    second = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STALL_ENV).start()
    try:
        job = wait_finished([job], timeout=60).popitem()[1]
    finally:
        second.stop()
    assert job.state == "succeeded" and job.attempts == 2
    totals = ledger(vendor_a, "isolated")
    assert {name: totals[name] for name in JOBS} == dict(submitted=1, succeeded=1, failed=0, cancelled=0, images=1)
    # The finishing run's time only (about 3 s), not the dead one's, and the bytes it read and wrote.
    assert 2500 <= totals["worker_ms"] < 10_000
    assert totals["input_bytes"] == job.record.size_bytes
    assert totals["output_bytes"] > 0


def test_a_message_delivered_twice_counts_once(worker, vendor_a):
    job = services.job_create(
        vendor=vendor_a, kind="sleepy", params={"seconds": 1.5, "steps": 5}, record=make_record(vendor_a)
    )
    wait_for(lambda: Job.objects.filter(pk=job.pk, state="running").exists(), what="the job to be running")
    for _ in range(3):  # the same message again while it runs, as a redelivery brings it
        send_job("sleepy", job.pk, 1)
    job = wait_finished([job]).popitem()[1]
    send_job("sleepy", job.pk, 1)  # and once more after it ended
    # A job sent after the duplicates, on the same queue: once it has run, they have been taken too.
    marker = services.job_create(vendor=vendor_a, kind="sleepy", params={"seconds": 0.5}, record=make_record(vendor_a))
    wait_finished([marker])
    time.sleep(0.5)
    assert Job.objects.get(pk=job.pk).attempts == 1
    assert counts(vendor_a, "sleepy", *JOBS) == dict(submitted=2, succeeded=2, failed=0, cancelled=0, images=2)


def test_automatic_retries_count_one_job_and_a_retry_by_hand_a_second_submission(worker, vendor_a):
    retried = services.job_create(
        vendor=vendor_a,
        kind="flaky",
        params={"key": uuid.uuid4().hex, "fail_times": 2},
        record=make_record(vendor_a),
    )
    assert wait_finished([retried]).popitem()[1].state == "succeeded"
    assert counts(vendor_a, "flaky", *JOBS) == dict(submitted=1, succeeded=1, failed=0, cancelled=0, images=1)

    dead = services.job_create(
        vendor=vendor_a,
        kind="flaky",
        params={"key": uuid.uuid4().hex, "fail_times": 3},
        record=make_record(vendor_a),
    )
    dead = wait_finished([dead]).popitem()[1]
    assert dead.state == "failed" and dead.attempts == 3
    assert counts(vendor_a, "flaky", *JOBS) == dict(submitted=2, succeeded=1, failed=1, cancelled=0, images=1)

    assert services.job_retry(job=dead)  # by hand: run (and charged) again
    assert wait_finished([dead]).popitem()[1].state == "succeeded"
    # Every submission ends once: the failure stays counted, the second run's success is added.
    assert counts(vendor_a, "flaky", *JOBS) == dict(submitted=3, succeeded=2, failed=1, cancelled=0, images=2)


def test_a_cancel_after_start_counts_a_cancel_and_no_image(worker, vendor_a):
    job = sleepy_job_running(vendor_a)
    assert services.job_cancel(job=job)
    wait_for(lambda: f"job {job.pk} cancelled while running" in worker.output(), timeout=6, what="the run to stop")
    assert counts(vendor_a, "sleepy", *JOBS) == dict(submitted=1, succeeded=0, failed=0, cancelled=1, images=0)
    assert services.jobs_cancel(job_ids=[job.pk]) == 0, "cancelled once"
    assert counts(vendor_a, "sleepy", "cancelled") == {"cancelled": 1}


def test_a_pipeline_counts_its_steps_per_step_kind(worker, vendor_a):
    steps = {"steps": [{"kind": "transform", "params": {"width": 20}}, {"kind": "transform"}]}
    job = services.job_create(vendor=vendor_a, kind="pipeline", params=steps, record=make_record(vendor_a))
    assert wait_finished([job]).popitem()[1].state == "succeeded"
    today = timezone.now().date()
    totals = selectors.usage_totals(
        list(selectors.usage_days(vendor=vendor_a, start=today - timedelta(days=1), end=today))
    )
    assert {name: totals["kinds"]["pipeline"][name] for name in JOBS} == dict(
        submitted=1, succeeded=1, failed=0, cancelled=0, images=2
    )
    assert totals["steps"] == {"transform": 2}
    assert totals["overall"]["images"] == 2, "step rows are not counted twice in the totals"


def test_a_batch_is_one_submission_write_and_its_jobs_each_count(worker, vendor_a):
    records = [make_record(vendor_a) for _ in range(4)]
    before = UsageDay.objects.count()
    batch = services.batch_create(vendor=vendor_a, kind="sleepy", params={"seconds": 0}, records=records)
    assert UsageDay.objects.count() == before + 1
    assert counts(vendor_a, "sleepy", "submitted") == {"submitted": 4}
    wait_finished(list(batch.jobs.all()))
    assert counts(vendor_a, "sleepy", *JOBS) == dict(submitted=4, succeeded=4, failed=0, cancelled=0, images=4)


def test_a_job_failed_by_the_lease_sweep_on_its_last_attempt_counts_one_failure(vendor_a):
    from processing.jobs.services import jobs_recover_stalled

    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    for _ in range(job.max_attempts):
        assert services.job_start(job_id=job.pk) is not None
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        jobs_recover_stalled()  # or the shared worker's tick, if it comes first: one of them applies it
        wait_for(lambda: not Job.objects.filter(pk=job.pk, state="running").exists(), timeout=10, what="recovery")
    assert Job.objects.get(pk=job.pk).state == "failed"
    assert counts(vendor_a, "isolated", *JOBS) == dict(submitted=1, succeeded=0, failed=1, cancelled=0, images=0)


def test_the_ledger_outlives_retention_and_record_deletion(worker, vendor_a, settings):
    records = [make_record(vendor_a) for _ in range(3)]
    jobs = [
        services.job_create(vendor=vendor_a, kind="sleepy", params={"seconds": 0}, record=record) for record in records
    ]
    wait_finished(jobs)
    before = ledger(vendor_a, "sleepy")
    assert before["succeeded"] == 3 and before["images"] == 3

    records[0].delete()  # its file and row go; its job stays, without it, until retention
    settings.JOB_RETENTION_SUCCEEDED_H = 0
    report = services.jobs_purge_finished(now=timezone.now() + timedelta(seconds=1))
    assert report.jobs >= 2 and not Job.objects.filter(vendor=vendor_a).exists()
    assert ledger(vendor_a, "sleepy") == before


@pytest.mark.parametrize("choice", ["keep", "pseudonymise", "delete"])
def test_a_deleted_vendors_rows_are_kept_named_pseudonymised_or_removed(settings, choice):
    settings.USAGE_ON_VENDOR_DELETE = choice
    leaving = make_vendor("leaving")
    staying = make_vendor("staying")
    for vendor in (leaving, staying):
        # On the queue no shared worker serves: nothing runs while the vendor is deleted.
        services.job_create(vendor=vendor, kind="isolated", params={}, record=make_record(vendor))
    leaving.delete()
    kept = list(UsageDay.objects.filter(vendor__isnull=True).values_list("vendor_slug", "submitted"))
    expected = {"keep": [("leaving", 1)], "pseudonymise": [(pseudonym("leaving"), 1)], "delete": []}[choice]
    assert kept == expected
    assert UsageDay.objects.get(vendor=staying).submitted == 1, "another vendor's rows are untouched"
    month = selectors.ops_usage_month(month=timezone.now().date())
    assert {row["vendor"] for row in month} == {"staying"} | {name for name, _ in expected}


def test_reading_a_vendors_year_is_one_range_of_the_key(transactional_db):
    """A year of one vendor among many: one statement, an index range on (vendor, day, …) read in
    its order (no sort), examining that vendor's rows only."""
    import json

    from django.db import connection

    vendors = [make_vendor(f"ledger-{n}") for n in range(12)]
    first = date(2025, 12, 1)
    for vendor in vendors:
        usage.usage_add(
            counts=[
                usage.Count(vendor_id=vendor.pk, kind=kind, day=first + timedelta(days=n), amounts={"images": 1})
                for n in range(400)
                for kind in ("remove_bg", "transform")
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE TABLE {UsageDay._meta.db_table}")
        cursor.fetchall()
    reader = selectors.usage_days(vendor=vendors[5], start=date(2026, 1, 1), end=date(2026, 12, 31))
    sql, params = reader.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN FORMAT=JSON {sql}", params)
        plan = json.loads(cursor.fetchone()[0])
    text = json.dumps(plan)
    assert '"key": "usage_day_key"' in text and '"access_type": "range"' in text, plan
    assert "filesort" not in text, plan
    (table,) = [step["table"] for step in plan["query_block"].get("nested_loop", [plan["query_block"]])]
    assert table["used_key_parts"] == ["vendor_id", "day"], table
    rows = table["rows"]
    assert rows <= 2 * 366 * 1.5, f"about the vendor's year of rows (730), not the table's ({12 * 800}): {rows}"
    assert len(list(reader)) == 2 * 365


def test_a_finish_whose_ledger_row_is_locked_is_rolled_back_whole_and_made_once(vendor_a):
    """The change and its count are one transaction: when the upsert waits too long for the day's
    row (held by another connection), the job's change is rolled back with it and the whole is
    tried again — one failure, counted once, never a finished job missing from the ledger."""
    from processing.lib.errors import InvalidImage
    from tests.support.row_locks import rows_locked

    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    started = services.job_start(job_id=job.pk)
    held = "SELECT id FROM processing_usageday WHERE vendor_id = %s AND kind = %s FOR UPDATE"
    # The lock goes after 1.5 s: longer than one lock wait (1 s), shorter than three.
    with rows_locked(held, [vendor_a.pk, "isolated"], release_after_s=1.5):
        assert services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("bad")) == "failed"
    assert counts(vendor_a, "isolated", *JOBS) == dict(submitted=1, succeeded=0, failed=1, cancelled=0, images=0)


def test_a_finish_whose_connection_is_killed_is_counted_once(vendor_a):
    from processing.lib.errors import InvalidImage
    from tests.support.row_locks import kill_own_connection

    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    started = services.job_start(job_id=job.pk)
    kill_own_connection()
    assert services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("bad")) == "failed"
    assert counts(vendor_a, "isolated", *JOBS) == dict(submitted=1, succeeded=0, failed=1, cancelled=0, images=0)
