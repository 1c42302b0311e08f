"""Vendors read a generic reason for failures whose detail is about our inside: the address a
name resolved to, a server's answer, an exception's text. Operators read the detail in the logs
(with job id and vendor) and in the admin."""

import logging
import socket
import uuid

import httpx
import pytest

from processing.engine import runner
from processing.jobs.models import Job
from processing.jobs.states import JobState
from processing.lib.errors import RefusedAddress
from processing.lib.http.client import safe_request
from processing.lib.http.guard import PUBLIC_ONLY
from processing.lib.redis import get_redis
from processing.webhooks import services as webhooks
from processing.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import make_job
from tests.support.clients import client_for

INSIDE = "172.18.0.3"
NO_SUCH_HOST = "rembg-9.example.test"


@pytest.fixture
def resolves_inside(monkeypatch):
    """The names of our containers resolve inside, NO_SUCH_HOST does not exist; everything else
    as usual (Redis, MySQL)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in ("mysql", "redis.internal"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (INSIDE, port))]
        if host == NO_SUCH_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.django_db
def test_a_refused_webhook_url_does_not_say_where_the_name_points(owner, settings, resolves_inside, caplog):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with caplog.at_level(logging.INFO, logger="processing.api.errors"):
        response = client_for(owner).post("/api/v1/webhooks/", {"url": "http://mysql/hook"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "url_refused"
    assert INSIDE not in response.content.decode()
    assert INSIDE in caplog.text  # the operators' log has it


def test_the_guard_keeps_the_resolved_address_for_operators(resolves_inside):
    with pytest.raises(RefusedAddress) as refused:
        safe_request("GET", "http://redis.internal/", policy=PUBLIC_ONLY, timeout_s=1, max_bytes=10)
    assert INSIDE not in refused.value.message
    assert INSIDE in refused.value.detail


@pytest.mark.django_db
def test_an_internal_error_shows_vendors_a_generic_reason_and_operators_the_detail(
    owner, member, outsider, vendor, monkeypatch, caplog, settings
):
    job = make_job(vendor, kind="transform")
    Job.objects.filter(pk=job.pk).update(max_attempts=1)

    def crash(job):
        raise RuntimeError(f"(2003, \"Can't connect to MySQL server on '{INSIDE}' (115)\")")

    monkeypatch.setattr(runner, "_read_input", crash)
    with caplog.at_level(logging.ERROR):
        runner.job_run(job_id=str(job.pk), kind="transform")

    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "internal_error"
    for user in (owner, member):
        answer = client_for(user).get(f"/api/v1/jobs/{job.pk}/")
        assert answer.status_code == 200
        assert answer.json()["error"]["code"] == "internal_error"
        assert INSIDE not in answer.content.decode() and "MySQL" not in answer.content.decode()
    assert client_for(outsider).get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert INSIDE not in job.error_message and INSIDE not in str(job.attempt_errors[0]["message"])
    assert INSIDE in job.error_traceback  # the admin shows it
    failed = [r for r in caplog.records if str(job.pk) in r.getMessage() and INSIDE in r.getMessage()]
    assert failed, "no operator log line names the job and the detail"


@pytest.mark.django_db
def test_a_failed_delivery_shows_the_kind_of_failure_not_the_exception_text(vendor, settings, monkeypatch, caplog):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    endpoint = webhooks.endpoint_create(vendor=vendor, url="http://127.0.0.1:9/hook")

    def refuse(*args, **kwargs):
        raise httpx.ConnectError(f"[Errno 111] Connection refused to {INSIDE}:80")

    monkeypatch.setattr(webhooks, "safe_request", refuse)
    with caplog.at_level(logging.WARNING, logger="processing.webhooks.services"):
        webhooks.delivery_attempt(
            endpoint_id=endpoint.pk,
            delivery_id=str(uuid.uuid4()),
            event=WebhookEvent.JOB_SUCCEEDED,
            payload={},
            attempt=1,
        )

    delivery = WebhookDelivery.objects.get()
    assert delivery.error and INSIDE not in delivery.error
    assert INSIDE in caplog.text


SECRET = "Bearer sk-live-0123456789abcdef"


@pytest.mark.django_db
def test_an_ai_endpoints_4xx_body_is_for_operators_only(owner, member, outsider, vendor, serve, settings, caplog):
    """Its 4xx body may echo what we sent, our credentials included: vendors read the status."""
    server = serve(
        {"/echo": lambda r: (400, {}, f"bad request; you sent Authorization: {r.headers['Authorization']}".encode())}
    )
    settings.AI_ENDPOINTS = {"echo": {"url": server.url("/echo"), "timeout_s": 2, "headers": {"Authorization": SECRET}}}
    get_redis().delete("darkroom:circuit:ai:echo:open", "darkroom:circuit:ai:echo:failures")
    job = make_job(vendor, kind="ai_endpoint", params={"endpoint": "echo", "prompt": "a cat"})
    with caplog.at_level(logging.WARNING):
        runner.job_run(job_id=str(job.pk), kind="ai_endpoint")

    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "ai_rejected"
    for user in (owner, member):
        answer = client_for(user).get(f"/api/v1/jobs/{job.pk}/")
        assert answer.status_code == 200
        assert answer.json()["error"]["code"] == "ai_rejected" and "HTTP 400" in answer.json()["error"]["message"]
        assert "sk-live" not in answer.content.decode()
    assert client_for(outsider).get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert "sk-live" not in job.error_message and "sk-live" not in job.attempt_errors[0]["message"]
    # Operators read the body (the admin, the log line), the credential it echoes removed (issue 24).
    assert "you sent Authorization: [redacted]" in job.error_traceback and "sk-live" not in job.error_traceback
    logged = [r.getMessage() for r in caplog.records if str(job.pk) in r.getMessage() and "you sent" in r.getMessage()]
    assert logged and "echo" in logged[0], "no operator log line names the job, the endpoint and the body"
    assert not any("sk-live" in r.getMessage() for r in caplog.records)


# No internal-name oracle: a name that points inside and one that does not exist answer alike,
# on every path a vendor can give a URL (issue 22, point 6).


@pytest.mark.django_db
def test_a_webhook_to_an_inside_name_and_to_no_such_name_answer_alike(owner, settings, resolves_inside):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    api = client_for(owner)
    inside = api.post("/api/v1/webhooks/", {"url": "http://mysql/hook"}, format="json")
    nowhere = api.post("/api/v1/webhooks/", {"url": f"http://{NO_SUCH_HOST}/hook"}, format="json")

    assert inside.status_code == nowhere.status_code == 403
    assert inside.json() == nowhere.json()
    assert inside.json()["code"] == "url_refused" and INSIDE not in inside.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_delivery_to_an_inside_name_and_to_no_such_name_fail_alike(vendor, settings, resolves_inside):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # made while allowed: each delivery checks again
    endpoints = [webhooks.endpoint_create(vendor=vendor, url=f"http://{h}/hook") for h in ("mysql", NO_SUCH_HOST)]
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    outcomes = [
        webhooks.delivery_attempt(
            endpoint_id=e.pk, delivery_id=str(uuid.uuid4()), event=WebhookEvent.JOB_SUCCEEDED, payload={}, attempt=1
        )
        for e in endpoints
    ]
    inside, nowhere = (o.delivery for o in outcomes)
    assert (inside.error, inside.status_code, outcomes[0].retry) == (
        nowhere.error,
        nowhere.status_code,
        outcomes[1].retry,
    )
    assert INSIDE not in inside.error


@pytest.mark.django_db
def test_an_image_url_to_an_inside_name_and_to_no_such_name_fail_alike(
    owner, member, outsider, settings, resolves_inside
):
    settings.IMAGE_FETCH_ALLOW_PRIVATE = False
    api = client_for(owner)
    answers = {}
    for host in ("mysql", NO_SUCH_HOST):
        created = api.post("/api/v1/jobs/", {"kind": "transform", "image_url": f"http://{host}/a.png"}, format="json")
        assert created.status_code == 202, created.content
        job_id = created.json()["id"]
        runner.job_run(job_id=job_id, kind="transform")
        assert client_for(outsider).get(f"/api/v1/jobs/{job_id}/").status_code == 404
        answer = client_for(member).get(f"/api/v1/jobs/{job_id}/")
        assert answer.status_code == 200 and answer.json()["state"] == "failed"
        answers[host] = answer.json()["error"]

    assert answers["mysql"] == answers[NO_SUCH_HOST]
    assert answers["mysql"]["code"] == "url_refused" and INSIDE not in str(answers["mysql"])
