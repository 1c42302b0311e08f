from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from processing.engine.admission import dispatch_pending
from processing.jobs import services
from processing.jobs.models import Job
from processing.jobs.services import jobs_purge_finished, runs
from tests.factories import make_record, make_vendor
from tests.support.commands import command_output
from tests.support.waiting import wait_for
from vendors.models import Record

pytestmark = pytest.mark.django_db


def many_records(vendor, n):
    original = make_record(vendor)
    Record.objects.bulk_create(
        [Record(vendor=vendor, project=original.project, original=original.original.name) for _ in range(n - 1)],
        batch_size=500,
    )
    return list(Record.objects.filter(vendor=vendor))


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_1000_is_inserted_in_chunks_and_admitted_only_up_to_capacity(
    transactional_db, django_assert_max_num_queries
):
    vendor = make_vendor("bulk", plan="unlimited")
    records = many_records(vendor, 1000)
    # A constant number of statements (chunked inserts, then one admission), not one per row.
    with django_assert_max_num_queries(25):
        # Committed, then admitted: no worker consumes the isolated queue, so nothing moves on.
        batch = services.batch_create(vendor=vendor, kind="isolated", params={"seconds": 0}, records=records)
    assert batch.jobs.count() == batch.total == 1000
    capacity = settings.JOB_QUEUE_CAPACITY_DEFAULT
    handed_over = batch.jobs.filter(dispatched_at__isnull=False)
    # What a woken worker does; a running worker may hold the dispatcher's lock and do it instead.
    dispatch_pending(kinds=["isolated"])
    wait_for(lambda: handed_over.count() >= capacity, timeout=10, what="admission")
    dispatch_pending(kinds=["isolated"])
    assert handed_over.count() == capacity, "the backlog waits in the database"


def test_cancelling_a_batch_of_1000_updates_and_announces_in_chunks(
    vendor, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    batch = services.batch_create(vendor=vendor, kind="sleepy", records=many_records(vendor, 1000))
    # A constant number of statements per chunk of 500, the reads that announce each job after
    # commit included: none per job.
    with django_assert_max_num_queries(20), django_capture_on_commit_callbacks(execute=True) as announced:
        assert services.batch_cancel(batch=batch) == 1000
    assert announced, "the cancelled jobs are announced"
    assert not batch.jobs.exclude(state="cancelled").exists()


def test_backoff_doubles_per_attempt_with_jitter(vendor):
    job = services.job_create(vendor=vendor, kind="remove_bg", record=make_record(vendor))
    delays = []
    for attempt in (1, 2, 3):
        job.attempts = attempt
        delays.append(runs._backoff_s(job))
    base = settings.JOB_RETRY_BASE_S["remove_bg"]
    for attempt, delay in enumerate(delays, start=1):
        assert 0.8 * base * 2 ** (attempt - 1) <= delay <= 1.2 * base * 2 ** (attempt - 1)


def test_default_backoff_is_about_5_10_20_seconds(vendor, settings):
    settings.JOB_RETRY_BASE_S = {}
    job = services.job_create(vendor=vendor, kind="remove_bg", record=make_record(vendor))
    for attempt, expected in ((1, 5), (2, 10), (3, 20)):
        job.attempts = attempt
        assert 0.8 * expected <= runs._backoff_s(job) <= 1.2 * expected


def finished_job(vendor, state, age_h, *, with_file=True, keep_on_record=False):
    record = make_record(vendor)
    job = services.job_create(vendor=vendor, kind="transform", params={"width": 4}, record=record)
    result = None
    if with_file:
        name = default_storage.save(f"results/{vendor.pk}/{job.pk}/out.png", ContentFile(b"png"))
        result = {"name": name, "content_type": "image/png", "width": 1, "height": 1}
        if keep_on_record:
            Record.objects.filter(pk=record.pk).update(processed=name)
    Job.objects.filter(pk=job.pk).update(
        state=state, result=result, finished_at=timezone.now() - timedelta(hours=age_h)
    )
    return Job.objects.get(pk=job.pk)


def test_retention_removes_old_finished_jobs_and_their_unreferenced_files(vendor):
    old_success = finished_job(vendor, "succeeded", 25)
    kept_by_record = finished_job(vendor, "succeeded", 25, keep_on_record=True)
    fresh_success = finished_job(vendor, "succeeded", 23)
    old_failure = finished_job(vendor, "failed", 24 * 7 + 1, with_file=False)
    fresh_failure = finished_job(vendor, "failed", 24 * 6, with_file=False)
    running = services.job_create(vendor=vendor, kind="transform", record=make_record(vendor))

    report = jobs_purge_finished()
    remaining = set(Job.objects.values_list("pk", flat=True))
    assert remaining == {fresh_success.pk, fresh_failure.pk, running.pk}
    assert report.jobs == 3 and report.files == 1
    assert not default_storage.exists(old_success.result["name"])
    assert default_storage.exists(kept_by_record.result["name"]), "a record's processed output is kept"
    assert old_failure.pk not in remaining


def test_cleanup_command_and_the_periodic_schedule(vendor):
    from processing.engine.tasks import purge_finished_jobs

    finished_job(vendor, "succeeded", 30)
    assert "removed 1 jobs" in command_output("darkroom", "cleanup")
    assert str(purge_finished_jobs.options["periodic"]) == str(__import__("periodiq").cron(settings.JOB_RETENTION_CRON))
