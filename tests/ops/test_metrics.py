"""/metrics as Prometheus scrapes it, and who may read it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from processing.engine.tasks import actor_for
from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record, make_vendor
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


def test_durations_of_recently_finished_jobs_fall_in_their_buckets(vendor, clean_redis):
    jobs = [services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor)) for _ in range(3)]
    for job in jobs:
        actor_for("isolated")(str(job.pk))
    now = timezone.now()
    # Known run times: 2 s, 2 s and 40 s; a fourth finished long before the window.
    for job, seconds in zip(jobs, (2, 2, 40), strict=True):
        Job.objects.filter(pk=job.pk).update(started_at=now - timedelta(seconds=seconds), finished_at=now)
    old = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    actor_for("isolated")(str(old.pk))
    Job.objects.filter(pk=old.pk).update(
        started_at=now - timedelta(days=2, seconds=1), finished_at=now - timedelta(days=2)
    )

    samples = scrape()
    bucket = "darkroom_job_duration_seconds_bucket"
    ok = {"kind": "isolated", "state": "succeeded"}
    assert samples[(bucket, labels(**ok, le="1.0"))] == 0
    assert samples[(bucket, labels(**ok, le="2.5"))] == 2
    assert samples[(bucket, labels(**ok, le="30.0"))] == 2
    assert samples[(bucket, labels(**ok, le="60.0"))] == 3
    assert samples[(bucket, labels(**ok, le="+Inf"))] == 3
    assert samples[("darkroom_job_duration_seconds_gcount", labels(**ok))] == 3
    assert samples[("darkroom_job_duration_seconds_gsum", labels(**ok))] == pytest.approx(44, abs=0.01)


def test_a_failed_attempt_waiting_to_retry_counts_as_a_retry(vendor, clean_redis):
    vendor_set_paused(vendor=vendor, paused=True)  # so no test worker takes the retry
    job = services.job_create(
        vendor=vendor, kind="flaky", params={"key": "metrics", "fail_times": 1}, record=make_record(vendor)
    )
    actor_for("flaky")(str(job.pk))
    assert Job.objects.get(pk=job.pk).state == "queued"

    assert scrape()[("darkroom_job_retries_recent", labels(kind="flaky"))] == 1


def test_without_a_token_only_loopback_callers_are_served(db, clean_redis, settings):
    settings.METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 401
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert "darkroom_queue_depth" in Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()


def test_with_a_token_every_caller_needs_it(db, clean_redis, settings):
    settings.METRICS_TOKEN = "s3cret-scrape"
    loopback = Client(REMOTE_ADDR="127.0.0.1")
    assert loopback.get("/metrics").status_code == 401
    assert loopback.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = Client(REMOTE_ADDR="10.1.2.3").get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape")
    assert response.status_code == 200
    assert "darkroom_jobs" in response.content.decode()


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
