"""What a short job costs the database on the worker's hot path (issue 12: a few statements)."""

import pytest

from processing.engine.runner import job_run
from processing.jobs import services
from processing.jobs.models import UsageDay
from tests.factories import make_record, make_vendor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_job_costs_three_statements_and_the_last_one_stamps_the_batch(
    transactional_db, django_assert_num_queries, clean_redis
):
    vendor = make_vendor("counted", plan="unlimited")
    # On the queue the session's shared worker leaves alone: it must not run these jobs itself.
    batch = services.batch_create(
        vendor=vendor, kind="isolated", params={"seconds": 0}, records=[make_record(vendor)] * 3
    )
    first, second, last = batch.jobs.order_by("created_at")

    job_run(job_id=str(first.pk), kind="isolated")  # the vendor's first: its webhook endpoints are read once
    # Take it (UPDATE), read it with its vendor, record and batch (SELECT), then finish it, count
    # it on the batch and in the day's ledger row (which the first job's run made) in one
    # multi-table UPDATE, in autocommit. Nothing else, whatever the receivers.
    with django_assert_num_queries(3) as captured:
        job_run(job_id=str(second.pk), kind="isolated")
    verbs = [query["sql"].split()[0] for query in captured.captured_queries]
    assert verbs == ["UPDATE", "SELECT", "UPDATE"], verbs
    batch.refresh_from_db()
    assert (batch.done, batch.finished_at) == (2, None)
    day = UsageDay.objects.get(vendor=vendor, kind="isolated", step_kind="")
    assert (day.submitted, day.succeeded, day.images) == (3, 2, 2)

    job_run(job_id=str(last.pk), kind="isolated")  # the last one also stamps the batch finished
    batch.refresh_from_db()
    assert batch.done == 3 and batch.finished_at is not None
    assert set(batch.jobs.values_list("state", flat=True)) == {"succeeded"}
