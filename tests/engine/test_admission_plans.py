"""Admission's cost does not grow with the backlog: the statements of a pass read a few index
entries per vendor and per admitted job, never the waiting jobs, and sort nothing (MariaDB)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processing.engine.admission import admit
from processing.jobs.models import Job, Lane
from tests.factories import make_record, make_vendor
from tests.support.backlog import insert_waiting_jobs

pytestmark = pytest.mark.django_db
KIND = "transform"  # capacity 2 in the test settings


def fill(vendor, record, n: int) -> None:
    insert_waiting_jobs(vendor=vendor, record=record, kind=KIND, n=n)


def rows_read() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
        return sum(int(value) for _, value in cursor.fetchall())


def a_pass(kind: str = KIND):
    """(jobs admitted, index rows read, the SELECTs it ran)."""
    for _ in range(50):  # a live e2e worker of the session may hold the kind, or fill it, meanwhile
        Job.objects.filter(lane=Lane.IN_FLIGHT).update(lane=Lane.DONE, state="cancelled")  # room again
        before = rows_read()
        with CaptureQueriesContext(connection) as queries:
            admitted = admit(kind)
        read = rows_read() - before - 1  # SHOW STATUS reads a row of its own
        if admitted:
            break
    return admitted, read, [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]


@pytest.fixture
def vendors(transactional_db):
    a, b = make_vendor("vendor-a", plan="unlimited"), make_vendor("vendor-b", plan="unlimited")
    return (a, make_record(a)), (b, make_record(b))


def test_a_pass_reads_as_many_rows_at_20k_waiting_as_at_200(vendors):
    (a, record_a), (b, record_b) = vendors
    fill(a, record_a, 200)
    fill(b, record_b, 3)
    small = [a_pass()[:2] for _ in range(3)]
    fill(a, record_a, 20_000)
    large = [a_pass()[:2] for _ in range(3)]
    assert {admitted for admitted, _ in small + large} == {2}
    # A handful of index entries per vendor and per job, whatever the backlog (measured: ~20).
    assert max(read for _, read in large) <= max(read for _, read in small) + 10
    assert max(read for _, read in large) < 100


def test_no_statement_of_a_pass_sorts_or_scans_the_backlog(vendors):
    (a, record_a), _ = vendors
    fill(a, record_a, 20_000)
    _, _, selects = a_pass()
    with connection.cursor() as cursor:
        assert len(selects) >= 4, selects
        for sql in selects:
            cursor.execute(f"EXPLAIN FORMAT=JSON {sql}")
            plan = json.loads(cursor.fetchone()[0])
            text = json.dumps(plan)
            assert "filesort" not in text, sql
            assert '"access_type": "ALL"' not in text or "processing_job" not in text, sql
            if "DISTINCT" in sql:  # which vendors wait: one index dive per (kind, vendor)
                assert '"using_index_for_group_by": true' in text, plan
            if "LIMIT" in sql and "processing_job" in sql:  # a vendor's next jobs: an index range
                assert '"key": "job_admission"' in text, plan
