"""Job and delivery lists page newest first by cursor: every row once, RFC 8288 Link headers
beside next/previous, and a page query that neither counts nor sorts (an index serves it)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processing.jobs.models import Job
from processing.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import make_vendor
from tests.support.clients import client_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def jobs_created(vendor, count: int, *, state: str = "queued", ties: int = 0) -> list[Job]:
    """`count` jobs a second apart, newest first; the `ties` newest share one creation time (their
    order among themselves is the database's, by id)."""
    jobs = Job.objects.bulk_create(Job(vendor=vendor, kind="transform", state=state) for _ in range(count))
    for n, job in enumerate(jobs):
        job.created_at = T0 - timedelta(seconds=n if n >= ties else 0)
    Job.objects.bulk_update(jobs, ["created_at"])
    return sorted(jobs, key=lambda job: (job.created_at, job.pk), reverse=True)


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def walk(client, url: str) -> tuple[list[dict], list]:
    rows, responses = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        responses.append(response)
        rows += response.json()["results"]
        url = response.json()["next"]
    return rows, responses


@pytest.mark.django_db
def test_the_job_list_pages_newest_first_with_link_headers_and_every_job_once(owner, vendor):
    jobs = jobs_created(vendor, 23, ties=5)
    jobs_created(make_vendor("other"), 4)  # never shown
    client = client_for(owner)

    rows, responses = walk(client, "/api/v1/jobs/?page_size=10")

    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 23 and set(ids) == {str(job.pk) for job in jobs}  # ties included, once
    assert ids[5:] == [str(job.pk) for job in jobs[5:]]  # newest first
    assert [len(r.json()["results"]) for r in responses] == [10, 10, 3]
    first, middle, last = responses
    assert "count" not in first.json()
    assert links(first) == {"next": first.json()["next"]}
    assert links(middle) == {"next": middle.json()["next"], "prev": middle.json()["previous"]}
    assert links(last) == {"prev": last.json()["previous"]}
    back = client.get(links(last)["prev"])
    assert [row["id"] for row in back.json()["results"]] == ids[10:20]


@pytest.mark.django_db
def test_filters_still_narrow_a_cursor_page(owner, vendor):
    queued = jobs_created(vendor, 6)
    failed = jobs_created(vendor, 3, state="failed")
    client = client_for(owner)
    rows, _ = walk(client, "/api/v1/jobs/?state=failed&page_size=2")
    assert [row["id"] for row in rows] == [str(job.pk) for job in failed]
    after = (queued[2].created_at).isoformat()
    rows, _ = walk(client, f"/api/v1/jobs/?state=queued&created_after={after.replace('+', '%2B')}")
    assert [row["id"] for row in rows] == [str(job.pk) for job in queued[:3]]


@pytest.mark.django_db
def test_a_bad_cursor_is_a_problem_404(owner):
    response = client_for(owner).get("/api/v1/jobs/?cursor=not-a-cursor")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def explain(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        names = [column[0].lower() for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def page_query(client, url: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    selects = [
        q["sql"] for q in queries.captured_queries if "FROM `processing_job`" in q["sql"] and "ORDER BY" in q["sql"]
    ]
    assert len(selects) == 1, selects
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    return selects[0]


@pytest.mark.skipif(connection.vendor != "mysql", reason="the plan is MariaDB's")
@pytest.mark.django_db(transaction=True)  # ANALYZE TABLE commits
@pytest.mark.parametrize("url", ["/api/v1/jobs/?page_size=20", "/api/v1/jobs/?state=queued&page_size=20"])
def test_a_job_page_is_an_index_range_scan_without_count_or_filesort(owner, vendor, url):
    jobs_created(vendor, 300)
    jobs_created(vendor, 100, state="failed")
    for other in ("other-a", "other-b"):
        jobs_created(make_vendor(other), 300)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE processing_job")
    client = client_for(owner)
    first = client.get(url)
    for sql in (page_query(client, url), page_query(client, first.json()["next"])):
        plan = explain(sql)
        assert not any("filesort" in (row["extra"] or "") for row in plan), plan
        assert plan[0]["key"] in {"job_vendor_newest_idx", "job_vendor_state_newest_idx"}, plan


@pytest.mark.django_db
def test_the_delivery_log_pages_newest_first_by_cursor(owner, vendor):
    endpoint = WebhookEndpoint.objects.create(vendor=vendor, url="https://hooks.example/x", secret="s", events=[])
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=WebhookEvent.values[0], payload={}) for _ in range(7)
    )
    for n, delivery in enumerate(deliveries):
        delivery.created_at = T0 - timedelta(seconds=n)
    WebhookDelivery.objects.bulk_update(deliveries, ["created_at"])
    client = client_for(owner)

    rows, responses = walk(client, f"/api/v1/webhooks/{endpoint.pk}/deliveries/?page_size=3")

    assert [row["id"] for row in rows] == [delivery.pk for delivery in deliveries]
    assert links(responses[0]) == {"next": responses[0].json()["next"]}
    assert set(links(responses[1])) == {"next", "prev"}
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["0", "-1", "last", "1.5", "x"])
def test_a_page_number_that_is_not_an_integer_from_1_is_a_400_naming_it(owner, page):
    response = client_for(owner).get(f"/api/v1/projects/?page={page}")

    assert response.status_code == 400
    assert response.json()["field"] == "page"


@pytest.mark.django_db
def test_a_page_past_the_end_is_a_404(owner):
    assert client_for(owner).get("/api/v1/projects/?page=1").status_code == 200
    assert client_for(owner).get("/api/v1/projects/?page=2").json()["code"] == "not_found"
