"""Request limits per plan, counted in Redis: they hold under concurrency, a bulk request that
does not fit is refused whole, reads are limited loosely, and every answer says where you stand."""

from datetime import UTC, datetime

import pytest

from processing.jobs.models import Batch, Job
from tests.factories import make_member, make_vendor
from tests.support.clients import client_for, parallel_posts
from vendors.services import api_token_for

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "kind, admitted",
    [("remove_bg", 30), ("transform", 20)],  # 30 background removals / hour; 20 requests by override
)
def test_parallel_requests_never_admit_more_than_the_limit(live_server, kind, admitted):
    vendor = make_vendor("burst")
    vendor.limit_overrides = {"image_requests_limit": 20} if kind == "transform" else {}
    vendor.save()
    token = api_token_for(user=make_member(vendor, "burst-owner", role="owner"))
    bodies = [{"kind": kind, "image_url": f"https://example.com/{n}.jpg"} for n in range(50)]

    responses = parallel_posts(f"{live_server.url}/api/v1/jobs/", token, bodies)

    codes = sorted(response.status_code for response in responses)
    assert codes.count(202) == admitted and codes.count(429) == 50 - admitted, codes
    assert Job.objects.filter(vendor=vendor).count() == admitted
    for response in responses:
        assert all(name in response.headers for name in RATE_HEADERS), response.headers
    refused = next(response for response in responses if response.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    error = refused.json()
    assert error["code"] == "rate_limited"
    assert error["limit"] == ("remove_bg" if kind == "remove_bg" else "image_requests")
    assert "resets at" in error["detail"]


@pytest.mark.django_db
def test_a_bulk_of_40_background_removals_with_30_left_is_refused_whole(owner):
    client = client_for(owner)
    urls = [f"https://example.com/{n}.jpg" for n in range(40)]

    refused = client.post("/api/v1/jobs/bulk/", {"kind": "remove_bg", "image_urls": urls}, format="json")

    assert refused.status_code == 429
    assert refused.json()["limit"] == "remove_bg"
    assert "30 background removals per hour" in refused.json()["detail"]
    assert refused["X-RateLimit-Remaining"] == "30"
    assert not Job.objects.exists() and not Batch.objects.exists()
    quota = {row["name"]: row for row in client.get("/api/v1/quota/").json()["limits"]}
    assert quota["remove_bg"]["remaining"] == 30 and quota["bulk"]["used"] == 0  # nothing was counted

    fits = client.post("/api/v1/jobs/bulk/", {"kind": "remove_bg", "image_urls": urls[:30]}, format="json")
    assert fits.status_code == 202 and fits.json()["count"] == 30
    assert fits["X-RateLimit-Remaining"] == "0"


@pytest.mark.django_db
def test_the_eleventh_bulk_operation_in_an_hour_is_refused(owner):
    client = client_for(owner)
    body = {"kind": "transform", "image_urls": ["https://example.com/a.jpg"]}
    answers = [client.post("/api/v1/jobs/bulk/", body, format="json") for _ in range(11)]
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    assert answers[-1].json()["limit"] == "bulk"
    assert Batch.objects.count() == 10


@pytest.mark.django_db
def test_a_poller_reading_once_a_second_for_a_minute_is_never_refused(owner, vendor):
    from processing.jobs import services

    job = services.job_create(vendor=vendor, kind="transform", image_url="https://example.com/a.jpg")
    client = client_for(owner)
    remaining = []
    for _ in range(75):
        response = client.get(f"/api/v1/jobs/{job.pk}/")
        assert response.status_code == 200
        remaining.append(int(response["X-RateLimit-Remaining"]))
    assert remaining == list(range(remaining[0], remaining[0] - 75, -1))  # each read counted once
    assert remaining[-1] > 900 - 75  # 15 minutes of 1/s polling still fit


@pytest.mark.django_db
def test_reads_are_limited_too_at_the_plans_read_limit(owner, vendor):
    vendor.limit_overrides = {"read_requests_limit": 3}
    vendor.save()
    client = client_for(owner)
    codes = [client.get("/api/v1/jobs/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_limit_headers_say_limit_remaining_and_reset(owner):
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "transform", "image_url": "https://example.com/a.jpg"}, format="json"
    )
    assert response["X-RateLimit-Limit"] == "50" and response["X-RateLimit-Remaining"] == "49"
    reset = datetime.fromtimestamp(int(response["X-RateLimit-Reset"]), UTC)
    assert 0 < (reset - datetime.now(UTC)).total_seconds() <= 15 * 60


@pytest.mark.django_db
def test_a_failed_request_gives_its_charge_back(owner):
    client = client_for(owner)
    bad = client.post(
        "/api/v1/jobs/",
        {"kind": "transform", "image_url": "https://example.com/a.jpg", "params": {"width": -1}},
        format="json",
    )
    assert bad.status_code == 400
    quota = {row["name"]: row for row in client.get("/api/v1/quota/").json()["limits"]}
    assert quota["image_requests"]["used"] == 0


@pytest.mark.django_db
def test_the_unlimited_plan_lifts_request_limits(db):
    vendor = make_vendor("bigco", plan="unlimited")
    client = client_for(make_member(vendor, "bigco-owner", role="owner"))
    urls = [f"https://example.com/{n}.jpg" for n in range(60)]
    for url in urls[:55]:
        response = client.post("/api/v1/jobs/", {"kind": "remove_bg", "image_url": url}, format="json")
        assert response.status_code == 202
    for _ in range(12):
        bulk = client.post("/api/v1/jobs/bulk/", {"kind": "remove_bg", "image_urls": urls}, format="json")
        assert bulk.status_code == 202
    limits = {row["name"]: row for row in client.get("/api/v1/quota/").json()["limits"]}
    assert limits["remove_bg"]["limit"] is None and limits["remove_bg"]["used"] == 55 + 12 * 60


@pytest.mark.django_db
def test_anonymous_callers_and_wrong_tokens_are_limited_per_ip(api, settings):
    settings.ANON_RATE_LIMIT = "5/15m"
    codes = [api.get("/api/v1/jobs/").status_code for _ in range(3)]
    api.credentials(HTTP_AUTHORIZATION="Token guessed-token")
    codes += [api.get("/api/v1/jobs/").status_code for _ in range(3)]
    assert codes == [401] * 5 + [429]
    refused = api.get("/api/v1/jobs/")
    assert refused.json()["code"] == "rate_limited"
    assert refused["X-RateLimit-Limit"] == "5" and refused["X-RateLimit-Remaining"] == "0"
    assert int(refused["Retry-After"]) >= 1


def structured_list(value: str) -> dict[str, dict[str, int]]:
    """A structured-field list of strings with integer parameters: '"a";q=1;w=2, "b";q=3'."""
    items = {}
    for member in value.split(","):
        name, *params = member.strip().split(";")
        assert name.startswith('"') and name.endswith('"'), value
        items[name.strip('"')] = {key: int(number) for key, number in (param.split("=") for param in params)}
    return items


@pytest.mark.django_db
def test_ratelimit_fields_name_every_quota_the_request_counts_against(owner):
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "remove_bg", "image_url": "https://example.com/a.jpg"}, format="json"
    )
    assert response.status_code == 202
    policy = structured_list(response["RateLimit-Policy"])
    assert policy == {"image_requests": {"q": 50, "w": 900}, "remove_bg": {"q": 30, "w": 3600}}
    state = structured_list(response["RateLimit"])
    assert state["image_requests"]["r"] == 49 and state["remove_bg"]["r"] == 29
    assert 0 < state["image_requests"]["t"] <= 900 and 0 < state["remove_bg"]["t"] <= 3600
    # The closest to running out comes first, and the X-RateLimit-* fields are about it.
    assert next(iter(state)) == "remove_bg" and response["X-RateLimit-Remaining"] == "29"


@pytest.mark.django_db
def test_a_read_names_the_read_quota_and_a_refusal_the_quota_that_refused(owner, vendor):
    vendor.limit_overrides = {"read_requests_limit": 2}
    vendor.save()
    client = client_for(owner)
    first = client.get("/api/v1/jobs/")
    assert structured_list(first["RateLimit-Policy"]) == {"read_requests": {"q": 2, "w": 900}}
    assert structured_list(first["RateLimit"])["read_requests"]["r"] == 1
    client.get("/api/v1/jobs/")
    refused = client.get("/api/v1/jobs/")
    assert refused.status_code == 429
    assert structured_list(refused["RateLimit"])["read_requests"]["r"] == 0
    assert structured_list(refused["RateLimit-Policy"]) == {"read_requests": {"q": 2, "w": 900}}
