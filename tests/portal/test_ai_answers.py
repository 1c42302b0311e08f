"""A vendor picks "Analyse label" beside the other operations, and reads the answer as a table on
the photo's page: owner and member see it, an outsider gets 404, an anonymous visitor signs in.
The endpoint's key is on no page."""

import dataclasses

import pytest
from django.urls import reverse

from processing.jobs import services
from processing.jobs.models import Job
from processing.lib.imaging.output import json_output
from tests.factories import succeed_job
from tests.support.ai_providers import LABEL_ANSWER
from vendors.quotas import quota_usage

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
KEY = "sk-ant-portal-secret-0123456789"


@pytest.fixture(autouse=True)
def endpoints(settings):
    settings.AI_ENDPOINTS = {
        "claude": {"provider": "anthropic", "model": "claude-test", "api_key": KEY, "preset": "label_analysis"},
        "painter": {"provider": "openai", "api": "images", "api_key": KEY},
    }


@pytest.fixture
def analysed(vendor, records):
    job = services.job_create(vendor=vendor, kind="ai_endpoint", record=records[0], params={"endpoint": "claude"})
    usage = {"provider": "anthropic", "endpoint": "claude", "model": "claude-test", "calls": 1}
    return succeed_job(job, dataclasses.replace(json_output(LABEL_ANSWER), usage=usage))


def test_analyse_label_is_offered_beside_the_other_operations_and_starts_ai_jobs(
    browser_for, member, vendor, project, records
):
    web = browser_for(member)
    page = web.get(reverse("portal:project", args=[project.pk])).content.decode()
    assert '<option value="ai:claude">Analyse label</option>' in page
    assert '<option value="remove_bg" selected>' in page
    assert KEY not in page

    response = web.post(
        reverse("portal:jobs-start", args=[project.pk]),
        {"kind": "ai:claude", "records": [records[0].pk, records[1].pk]},
        **JSON,
    )
    assert response.status_code == 202, response.content
    jobs = Job.objects.filter(vendor=vendor)
    assert {(job.kind, job.run_params["endpoint"]) for job in jobs} == {("ai_endpoint", "claude")}
    assert sorted(job.record_id for job in jobs) == [records[0].pk, records[1].pk]
    assert next(u.used for u in quota_usage(vendor=vendor) if u.name == "ai_calls") == 2


def test_an_endpoint_that_is_not_configured_cannot_be_started(browser_for, owner, project, records):
    response = browser_for(owner).post(
        reverse("portal:jobs-start", args=[project.pk]), {"kind": "ai:painter", "all_records": "on"}, **JSON
    )
    assert response.status_code == 400 and Job.objects.count() == 0


@pytest.mark.parametrize("who", ["owner", "member"])
def test_the_record_page_shows_the_label_analysis_as_a_table(browser_for, request, records, analysed, who):
    page = browser_for(request.getfixturevalue(who)).get(reverse("portal:record", args=[records[0].pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Label analysis" in html and 'class="label-category">food supplement<' in html
    assert 'class="label-confidence">87%<' in html
    assert '<th scope="row">Amazon EU</th>' in html and "<li>no EU responsible person</li>" in html
    assert "VITAMIN D3 1000 IU - 60 capsules" in html
    assert KEY not in html


def test_an_outsider_and_an_anonymous_visitor_do_not_see_the_answer(browser_for, client, outsider, records, analysed):
    url = reverse("portal:record", args=[records[0].pk])
    assert browser_for(outsider).get(url).status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_another_answer_shows_its_fields(browser_for, owner, vendor, records):
    job = services.job_create(
        vendor=vendor,
        kind="ai_endpoint",
        record=records[1],
        params={"endpoint": "claude", "schema": {"type": "object"}},
    )
    succeed_job(job, json_output({"colour": "teal", "tags": ["a", "b"]}))
    html = browser_for(owner).get(reverse("portal:record", args=[records[1].pk])).content.decode()
    assert "AI answer" in html and "<dt>Colour</dt><dd>teal</dd>" in html and "[&quot;a&quot;, &quot;b&quot;]" in html


def test_generate_image_starts_a_job_whose_result_joins_the_project(browser_for, member, vendor, project):
    web = browser_for(member)
    page = web.get(reverse("portal:project", args=[project.pk])).content.decode()
    assert 'id="generate-form"' in page and "<option>painter</option>" in page
    response = web.post(
        reverse("portal:image-generate", args=[project.pk]), {"endpoint": "painter", "prompt": "a blue banner"}, **JSON
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.project_id, job.record_id) == ("ai_endpoint", project.pk, None)
    assert job.params["endpoint"] == "painter" and job.params["prompt"] == "a blue banner"


@pytest.mark.parametrize(
    "form, sentence",
    [
        ({"endpoint": "claude", "prompt": "a cat"}, "Choose one of the image generators."),
        ({"endpoint": "painter", "prompt": "  "}, "Describe the image to generate."),
    ],
)
def test_generate_image_refuses_a_wrong_generator_or_no_prompt(browser_for, owner, project, form, sentence):
    response = browser_for(owner).post(reverse("portal:image-generate", args=[project.pk]), form, **JSON)
    assert response.status_code == 400 and response.json()["detail"] == sentence
    assert Job.objects.count() == 0


def test_generate_image_is_for_the_projects_vendor_only(browser_for, client, outsider, project):
    url = reverse("portal:image-generate", args=[project.pk])
    assert browser_for(outsider).post(url, {"endpoint": "painter", "prompt": "x"}).status_code == 404
    anonymous = client.post(url, {"endpoint": "painter", "prompt": "x"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert Job.objects.count() == 0
