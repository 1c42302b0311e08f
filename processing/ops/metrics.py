"""Prometheus metrics at /metrics, computed from the database and Redis at scrape time.

Why at scrape time: jobs run in worker processes, often on other machines, so counters kept in
the web process's memory would never see them. The database already holds the truth, so each
scrape asks the selectors:

- `darkroom_jobs{kind,state,vendor}`: jobs kept in the database (retention bounds it).
- `darkroom_queue_jobs{kind,status}`: waiting / delayed / dispatched / active, as in queue_stats.
- `darkroom_queue_depth{kind}` and `darkroom_queue_oldest_age_seconds{kind}`: jobs not started
  yet, and how long the oldest of them has waited.
- `darkroom_job_duration_seconds{kind,state}`: a *gauge* histogram of the run time (last
  attempt, started_at to finished_at) of the jobs that finished in the last METRICS_WINDOW_S.
  It describes a recent window rather than counting since boot, so it is exposed as a
  GaugeHistogram: use it as is (e.g. histogram_quantile over its buckets), not with rate().
- `darkroom_job_retries_recent{kind}`: attempts beyond the first among jobs finished in the
  window, plus jobs waiting out a retry backoff now.
- `darkroom_rate_limit_refusals_total{quota,vendor}`: requests refused by a vendor quota, counted
  in Redis by vendors/quotas.py (a true counter: it only resets with Redis).

Dramatiq's own worker metrics (messages, errors, Dramatiq-level retries, per-message duration
histograms as counters since the worker started) are served by each worker on
DRAMATIQ_PROMETHEUS_PORT by dramatiq.middleware.Prometheus; scrape both.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from processing.jobs import selectors
from vendors.quotas import quota_refusals

DURATION_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
QUEUE_STATUSES = ("waiting", "delayed", "dispatched", "active")


class DarkroomCollector(Collector):
    def collect(self) -> Iterator:
        window_s = settings.METRICS_WINDOW_S
        yield self._jobs()
        yield from self._queues()
        yield self._durations(window_s)
        yield self._retries(window_s)
        yield self._refusals()

    def _jobs(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("darkroom_jobs", "Jobs in the database.", labels=["kind", "state", "vendor"])
        for kind, state, vendor, n in selectors.ops_job_counts():
            family.add_metric([kind, state, vendor], n)
        return family

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        stats = selectors.queue_stats()
        oldest = selectors.ops_queue_oldest_age_s()
        jobs = GaugeMetricFamily("darkroom_queue_jobs", "Unfinished jobs by queue status.", labels=["kind", "status"])
        depth = GaugeMetricFamily("darkroom_queue_depth", "Jobs of a kind not started yet.", labels=["kind"])
        age = GaugeMetricFamily(
            "darkroom_queue_oldest_age_seconds", "Age of the oldest job not started yet.", labels=["kind"]
        )
        for kind, row in sorted(stats.items()):
            for status in QUEUE_STATUSES:
                jobs.add_metric([kind, status], row[status])
            depth.add_metric([kind], row["waiting"] + row["delayed"] + row["dispatched"])
            age.add_metric([kind], oldest.get(kind, 0.0))
        yield from (jobs, depth, age)

    def _durations(self, window_s: int) -> GaugeHistogramMetricFamily:
        family = GaugeHistogramMetricFamily(
            "darkroom_job_duration_seconds",
            f"Run time of the jobs finished in the last {window_s} s.",
            labels=["kind", "state"],
        )
        rows = selectors.ops_duration_buckets(window_s=window_s, bounds=DURATION_BUCKETS_S)
        for (kind, state), row in sorted(rows.items()):
            buckets = [(str(float(b)), n) for b, n in zip(DURATION_BUCKETS_S, row["buckets"], strict=True)]
            buckets.append(("+Inf", row["count"]))
            family.add_metric([kind, state], buckets, gsum_value=row["sum_s"])
        return family

    def _retries(self, window_s: int) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "darkroom_job_retries_recent",
            f"Retried attempts of jobs finished in the last {window_s} s, plus jobs waiting to retry.",
            labels=["kind"],
        )
        for kind, n in sorted(selectors.ops_recent_retries(window_s=window_s).items()):
            family.add_metric([kind], n)
        return family

    def _refusals(self) -> CounterMetricFamily:
        family = CounterMetricFamily(
            "darkroom_rate_limit_refusals", "Requests refused by a vendor quota.", labels=["quota", "vendor"]
        )
        for (quota, vendor), n in sorted(quota_refusals().items()):
            family.add_metric([quota, vendor], n)
        return family


def _allowed(request: HttpRequest) -> bool:
    """With METRICS_TOKEN set, a matching bearer token is needed; without one, only loopback
    callers are served (a proxy on the same host counts as loopback: set a token then)."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    return ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "0.0.0.0").is_loopback


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        response = HttpResponse("metrics need the METRICS_TOKEN bearer token\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DarkroomCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
