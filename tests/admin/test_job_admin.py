"""Jobs in the admin: filters, search, the detail page and the actions, which change state
through processing.jobs.services."""

import re
from html import unescape as html_unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processing.jobs import services
from processing.jobs.models import Job
from processing.jobs.states import JobState
from tests.factories import fail_job, make_job, make_vendor, succeed_job, succeed_with_json
from vendors.models import Priority

pytestmark = pytest.mark.django_db

JOBS = "/admin/processing/job/"


def listed_ids(response) -> set[str]:
    return {str(job.pk) for job in response.context["cl"].result_list}


def act(client, action: str, *, jobs, query: str = "", across: bool = False):
    """Submit an action from the job list on the ticked rows or, as after "Select all N",
    on every row the filter matches (the browser still sends the page's ticked rows)."""
    data = {"action": action, "index": 0, "_selected_action": [str(job.pk) for job in jobs]}
    if across:
        data["select_across"] = 1
    return client.post(JOBS + query, data, follow=True)


def test_the_list_filters_by_state_kind_vendor_priority_and_date(staff, vendor):
    waiting = make_job(vendor, priority="high")
    failed = fail_job(make_job(vendor))
    other = make_job(make_vendor("globex"), kind="transform", params={"width": 10})

    assert listed_ids(staff.get(JOBS, {"state": "failed"})) == {str(failed.pk)}
    assert listed_ids(staff.get(JOBS, {"kind": "transform"})) == {str(other.pk)}
    assert listed_ids(staff.get(JOBS, {"vendor__id__exact": vendor.pk})) == {str(waiting.pk), str(failed.pk)}
    assert listed_ids(staff.get(JOBS, {"priority": Priority.HIGH})) == {str(waiting.pk)}
    today = waiting.created_at.date()
    by_date = {"created_at__year": today.year, "created_at__month": today.month, "created_at__day": today.day}
    assert len(listed_ids(staff.get(JOBS, by_date))) == 3


def test_search_finds_a_job_by_its_id_batch_record_and_error_text(staff, vendor):
    failed = fail_job(make_job(vendor), message="the upload is a zip file, not an image")
    batch = services.batch_create(vendor=vendor, kind="sleepy", records=[failed.record])
    in_batch = batch.jobs.get()
    make_job(vendor)

    assert listed_ids(staff.get(JOBS, {"q": str(failed.pk)})) == {str(failed.pk)}
    assert listed_ids(staff.get(JOBS, {"q": str(batch.pk)})) == {str(in_batch.pk)}
    assert listed_ids(staff.get(JOBS, {"q": str(failed.record_id)})) == {str(failed.pk), str(in_batch.pk)}
    assert listed_ids(staff.get(JOBS, {"q": "zip file"})) == {str(failed.pk)}


def test_the_detail_shows_params_attempts_traceback_and_timings(staff, vendor):
    job = fail_job(make_job(vendor, params={"seconds": 0.5, "steps": 2}), message="no face in the photo")

    html = staff.get(f"{JOBS}{job.pk}/change/").content.decode()

    assert "&quot;seconds&quot;: 0.5" in html and "&quot;steps&quot;: 2" in html
    assert f"1 of {job.max_attempts} attempt(s)" in html
    assert "<td>invalid_image</td><td>no face in the photo</td>" in html
    assert "Traceback (most recent call last):" in html
    assert "waited" in html and "ran" in html
    assert 'name="_save"' not in html, "a job is changed only through the actions"


def test_the_detail_previews_an_image_result(staff, vendor):
    job = succeed_job(make_job(vendor))

    html = staff.get(f"{JOBS}{job.pk}/change/").content.decode()

    shown = re.search(rf'<img src="(/media/{re.escape(job.result["name"])}[^"]*)"', html)
    assert shown
    assert staff.get(html_unescape(shown[1])).status_code == 200


def test_the_detail_shows_a_json_result(staff, vendor):
    job = succeed_with_json(make_job(vendor), {"labels": [{"name": "shoe", "score": 0.97}]})

    html = staff.get(f"{JOBS}{job.pk}/change/").content.decode()

    assert '<pre class="dr-result-json">' in html
    assert "&quot;name&quot;: &quot;shoe&quot;" in html and "0.97" in html


def test_retry_requeues_failed_and_cancelled_jobs_with_fresh_attempts(staff, vendor):
    failed = fail_job(make_job(vendor))
    cancelled = make_job(vendor)
    services.job_cancel(job=cancelled)
    waiting = make_job(vendor)

    response = act(staff, "retry_jobs", jobs=[failed, cancelled, waiting])

    assert "2 job(s) queued again." in response.content.decode()
    for job in (failed, cancelled):
        job.refresh_from_db()
        assert (job.state, job.attempts, job.error_message) == (JobState.QUEUED, 0, "")
    assert failed.attempt_errors, "the history of failed attempts is kept"


def test_requeue_dead_letters_touches_only_failed_jobs(staff, vendor):
    failed = fail_job(make_job(vendor))
    cancelled = make_job(vendor)
    services.job_cancel(job=cancelled)

    act(staff, "requeue_dead_letters", jobs=[cancelled], query=f"?vendor__id__exact={vendor.pk}", across=True)

    assert Job.objects.get(pk=failed.pk).state == JobState.QUEUED
    assert Job.objects.get(pk=cancelled.pk).state == JobState.CANCELLED


def test_priority_changes_only_jobs_still_waiting(staff, vendor):
    waiting = make_job(vendor, priority="low")
    done = succeed_job(make_job(vendor, priority="low"))

    response = act(staff, "set_priority_high", jobs=[waiting, done])

    assert "1 waiting job(s) set to high priority." in response.content.decode()
    assert Job.objects.get(pk=waiting.pk).priority == Priority.HIGH
    assert Job.objects.get(pk=done.pk).priority == Priority.LOW


def test_cancel_on_everything_a_filter_matches_works_in_chunks(staff, vendor, settings):
    settings.BULK_MAX_ITEMS = 1200  # one batch larger than a bulk request may start, for this test only
    record = make_job(vendor).record
    batch = services.batch_create(vendor=vendor, kind="sleepy", records=[record] * 1200)
    elsewhere = make_job(make_vendor("globex"))

    with CaptureQueriesContext(connection) as queries:
        response = act(
            staff, "cancel_jobs", jobs=[record.jobs.first()], query=f"?vendor__id__exact={vendor.pk}", across=True
        )

    assert "1201 job(s) cancelled." in response.content.decode()
    assert batch.jobs.filter(state=JobState.CANCELLED).count() == 1200
    assert Job.objects.get(pk=elsewhere.pk).state == JobState.QUEUED
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    ids_per_update = [len(re.findall(r"'[0-9a-f]{32}'", sql)) for sql in updates]
    assert max(ids_per_update) <= services.CHUNK, "no statement names more than one chunk of jobs"
    batch.refresh_from_db()
    assert batch.finished_at is not None


def test_a_vendor_user_cannot_open_the_jobs(client, owner):
    client.force_login(owner)

    response = client.get(JOBS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
