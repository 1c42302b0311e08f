"""/metrics as Prometheus scrapes it, and who may read it."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from processing.engine.tasks import actor_for
from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record, make_vendor
from tests.security.test_production_settings import GOOD, production
from vendors.services import vendor_set_paused

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def labels(**values) -> tuple:
    return tuple(sorted(values.items()))


def test_jobs_are_counted_by_kind_state_and_vendor(vendor, clean_redis):
    other = make_vendor("globex")
    for _ in range(3):
        services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    done = services.job_create(vendor=other, kind="isolated", record=make_record(other))
    actor_for("isolated")(str(done.pk))

    samples = scrape()
    assert samples[("darkroom_jobs", labels(kind="isolated", state="queued", vendor="acme"))] == 3
    assert samples[("darkroom_jobs", labels(kind="isolated", state="succeeded", vendor="globex"))] == 1
    assert ("darkroom_jobs", labels(kind="isolated", state="succeeded", vendor="acme")) not in samples
    assert samples[("darkroom_queue_depth", labels(kind="isolated"))] == 3
    assert samples[("darkroom_queue_depth", labels(kind="remove_bg"))] == 0
    statuses = {
        s: samples[("darkroom_queue_jobs", labels(kind="isolated", status=s))] for s in ("waiting", "dispatched")
    }
    assert sum(statuses.values()) == 3, "every unstarted job is either waiting or handed to Dramatiq"


def test_the_oldest_waiting_job_gives_the_queue_age(vendor, clean_redis):
    job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))

    samples = scrape()
    assert 600 <= samples[("darkroom_queue_oldest_age_seconds", labels(kind="isolated"))] < 3600
    assert samples[("darkroom_queue_oldest_age_seconds", labels(kind="transform"))] == 0


def test_runs_recorded_by_the_runner_move_the_duration_histogram(vendor, clean_redis):
    before = scrape()
    for seconds in (0.0, 0.0, 0.3):
        job = services.job_create(
            vendor=vendor, kind="isolated", record=make_record(vendor), params={"seconds": seconds}
        )
        actor_for("isolated")(str(job.pk))  # the actor's function, run here as a worker thread would
    after = scrape()

    def moved(name: str, **values) -> float:
        key = (name, labels(**values))
        return after.get(key, 0) - before.get(key, 0)

    ok = {"kind": "isolated", "outcome": "succeeded"}
    assert moved("darkroom_job_duration_seconds_count", **ok) == 3
    assert moved("darkroom_job_duration_seconds_bucket", **ok, le="0.25") == 2, "the two quick runs"
    assert moved("darkroom_job_duration_seconds_bucket", **ok, le="1.0") == 3
    assert moved("darkroom_job_duration_seconds_bucket", **ok, le="+Inf") == 3
    assert 0.3 <= moved("darkroom_job_duration_seconds_sum", **ok) < 3
    assert moved("darkroom_job_attempts_total", kind="isolated") == 3
    assert moved("darkroom_job_outcomes_total", kind="isolated", outcome="succeeded", vendor="acme") == 3
    assert moved("darkroom_job_wait_seconds_count", kind="isolated") == 3


def test_a_failed_attempt_is_counted_as_retried_then_failed_with_its_error(vendor, clean_redis):
    vendor_set_paused(vendor=vendor, paused=True)  # so no test worker takes the retry
    before = scrape()
    job = services.job_create(
        vendor=vendor, kind="flaky", params={"key": "metrics-2", "fail_times": 5}, record=make_record(vendor)
    )
    actor_for("flaky")(str(job.pk))
    assert Job.objects.get(pk=job.pk).state == "queued"
    Job.objects.filter(pk=job.pk).update(attempts=F("max_attempts") - 1, not_before=None, dispatched_at=None)
    actor_for("flaky")(str(job.pk))
    assert Job.objects.get(pk=job.pk).state == "failed"
    after = scrape()

    def moved(name: str, **values) -> float:
        key = (name, labels(**values))
        return after.get(key, 0) - before.get(key, 0)

    outcomes = {
        o: moved("darkroom_job_outcomes_total", kind="flaky", outcome=o, vendor="acme") for o in ("retried", "failed")
    }
    assert outcomes == {"retried": 1, "failed": 1}
    code = Job.objects.get(pk=job.pk).error_code
    assert moved("darkroom_job_errors_total", kind="flaky", code=code) == 2
    assert moved("darkroom_job_attempts_total", kind="flaky") == 2


def test_metrics_are_summed_from_the_multiprocess_directory(vendor, clean_redis, settings):
    from prometheus_client import values

    assert values.ValueClass is not values.MutexValue, "prometheus_client runs in multiprocess mode"
    job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    actor_for("isolated")(str(job.pk))
    files = {path.name for path in Path(settings.PROMETHEUS_MULTIPROC_DIR).iterdir()}
    assert f"counter_{os.getpid()}.db" in files and f"histogram_{os.getpid()}.db" in files

    # Another process of the host (a worker, say) records into the same directory: /metrics adds it up.
    script = (
        "from prometheus_client import Counter; "
        "Counter('darkroom_job_attempts', 'x', ['kind']).labels('elsewhere').inc(5)"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": settings.PROMETHEUS_MULTIPROC_DIR}
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    assert scrape()[("darkroom_job_attempts_total", labels(kind="elsewhere"))] >= 5


def test_http_requests_are_counted_by_django_prometheus(owner, clean_redis):
    from tests.support.clients import client_for

    before = scrape().get(("django_http_responses_total_by_status_total", labels(status="404")), 0)
    client_for(owner).get("/api/v1/jobs/6f1c0b7e-0000-4000-8000-000000000000/")
    after = scrape()
    assert after[("django_http_responses_total_by_status_total", labels(status="404"))] == before + 1
    assert any(name == "django_http_requests_latency_seconds_by_view_method_bucket" for name, _ in after)


def test_without_a_token_only_loopback_callers_are_served(db, clean_redis, settings):
    settings.METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics", secure=True).status_code == 401
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert "darkroom_queue_depth" in Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()


def test_with_a_token_every_caller_needs_it(db, clean_redis, settings):
    settings.METRICS_TOKEN = "s3cret-scrape"
    loopback = Client(REMOTE_ADDR="127.0.0.1")
    assert loopback.get("/metrics").status_code == 401
    assert loopback.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = Client(REMOTE_ADDR="10.1.2.3").get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape", secure=True)
    assert response.status_code == 200
    assert "darkroom_jobs" in response.content.decode()


# Issue 22, point 11: the bearer token is not to travel in clear. /metrics used to answer plain
# HTTP from anywhere (production exempts it from the HTTPS redirect, for internal scrapers).
TOKEN = {"HTTP_AUTHORIZATION": "Bearer s3cret-scrape"}


@pytest.mark.parametrize("address", ["10.1.2.3", "203.0.113.7", "2001:db8::7", "::ffff:198.51.100.4"])
def test_plain_http_from_outside_is_refused_even_with_the_token(db, settings, address):
    settings.METRICS_TOKEN = "s3cret-scrape"

    response = Client(REMOTE_ADDR=address).get("/metrics", **TOKEN)

    assert response.status_code == 403
    assert "HTTPS" in response.content.decode() and "darkroom_" not in response.content.decode()


def test_the_same_scrape_over_https_is_served(db, clean_redis, settings):
    settings.METRICS_TOKEN = "s3cret-scrape"
    assert Client(REMOTE_ADDR="203.0.113.7").get("/metrics", secure=True, **TOKEN).status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.7").get("/metrics", secure=True).status_code == 401  # still its token


def test_plain_http_is_served_to_loopback_and_the_configured_internal_networks(db, clean_redis, settings):
    settings.METRICS_TOKEN = "s3cret-scrape"
    settings.METRICS_PLAIN_HTTP_NETWORKS = ["127.0.0.0/8", "::1/128", "172.18.0.0/16"]
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "172.18.0.9"):
        assert Client(REMOTE_ADDR=address).get("/metrics", **TOKEN).status_code == 200, address
    assert Client(REMOTE_ADDR="172.19.0.9").get("/metrics", **TOKEN).status_code == 403


def test_a_request_a_proxy_took_over_plain_http_is_refused_even_from_loopback(db, clean_redis, settings):
    settings.METRICS_TOKEN = "s3cret-scrape"
    loopback = Client(REMOTE_ADDR="127.0.0.1")
    assert loopback.get("/metrics", HTTP_X_FORWARDED_PROTO="http", **TOKEN).status_code == 403
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # a trusted TLS proxy
    assert loopback.get("/metrics", HTTP_X_FORWARDED_PROTO="http", **TOKEN).status_code == 403
    assert Client(REMOTE_ADDR="10.0.0.2").get("/metrics", HTTP_X_FORWARDED_PROTO="https", **TOKEN).status_code == 200


def test_production_refuses_plain_http_metrics_rather_than_redirecting(db, clean_redis, settings):
    """Production exempts /metrics from the HTTPS redirect (a redirect would have the scraper send
    its token again); plain HTTP from outside is a 403, not a 301 that Prometheus follows."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT, s.METRICS_PLAIN_HTTP_NETWORKS]))"
    )
    loaded = production(["-c", script], **GOOD)
    redirect, exempt, networks = json.loads(loaded.stdout.splitlines()[-1])
    assert redirect is True and networks == ["127.0.0.0/8", "::1/128"]
    settings.METRICS_TOKEN = "s3cret-scrape"
    settings.SECURE_SSL_REDIRECT, settings.SECURE_REDIRECT_EXEMPT = redirect, exempt
    settings.METRICS_PLAIN_HTTP_NETWORKS = networks

    assert Client(REMOTE_ADDR="203.0.113.7").get("/metrics", **TOKEN).status_code == 403
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics", **TOKEN).status_code == 200


def test_quota_refusals_are_counted_per_quota_and_vendor(vendor, clean_redis):
    from vendors.quotas import QuotaExceeded, quota_consume

    vendor.limit_overrides = {"image_requests_limit": 1}
    vendor.save(update_fields=["limit_overrides"])
    quota_consume(vendor=vendor, charges={"image_requests": 1})
    for _ in range(2):
        with pytest.raises(QuotaExceeded):
            quota_consume(vendor=vendor, charges={"image_requests": 1})

    samples = scrape()
    assert samples[("darkroom_rate_limit_refusals_total", labels(quota="image_requests", vendor="acme"))] == 2
