"""Prometheus metrics at /metrics: one scrape for the host.

Recorded as they happen, by every process of the host, in prometheus_client's multiprocess files
(PROMETHEUS_MULTIPROC_DIR) and summed here — true counters and histograms, to use with rate():

- the workers' job metrics, `darkroom_job_*` (processing/engine/metrics.py): attempts, outcomes
  by vendor, errors by code, run durations and waits;
- Dramatiq's own, `dramatiq_*` (messages, errors, retries, durations), for workers running on
  this host; a worker also serves them, with its job metrics, on DRAMATIQ_PROMETHEUS_PORT;
- HTTP requests, `django_http_*` (django-prometheus' middleware): counts by method, view and
  status, latencies.

Computed from the database and Redis at scrape time, because they describe now rather than count
what happened (DarkroomCollector below):

- `darkroom_jobs{kind,state,vendor}`: jobs kept in the database (retention bounds it).
- `darkroom_queue_jobs{kind,status}`: waiting / delayed / dispatched / active, as in queue_stats.
- `darkroom_queue_depth{kind}` and `darkroom_queue_oldest_age_seconds{kind}`: jobs not started
  yet, and how long the oldest of them has waited.
- `darkroom_rate_limit_refusals_total{quota,vendor}`: requests refused by a vendor quota, counted
  in Redis by vendors/quotas.py (a true counter: it only resets with Redis).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from processing.jobs import selectors
from vendors.quotas import quota_refusals

QUEUE_STATUSES = ("waiting", "delayed", "dispatched", "active")


class DarkroomCollector(Collector):
    def collect(self) -> Iterator:
        yield self._jobs()
        yield from self._queues()
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

    def _refusals(self) -> CounterMetricFamily:
        family = CounterMetricFamily(
            "darkroom_rate_limit_refusals", "Requests refused by a vendor quota.", labels=["quota", "vendor"]
        )
        for (quota, vendor), n in sorted(quota_refusals().items()):
            family.add_metric([quota, vendor], n)
        return family


def _allowed(request: HttpRequest) -> bool:
    """With METRICS_TOKEN set, a matching bearer token is needed. Without one, nobody is served,
    except loopback callers where METRICS_ALLOW_LOOPBACK says so (local and test settings only:
    a proxy on the same host counts as loopback)."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if not settings.METRICS_ALLOW_LOOPBACK:
        return False
    return ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "0.0.0.0").is_loopback


def _transport_ok(request: HttpRequest) -> bool:
    """Over HTTPS, or over plain HTTP straight from METRICS_PLAIN_HTTP_NETWORKS (an internal
    scraper). A proxy's X-Forwarded-Proto saying anything but https is believed even when the
    proxy is not trusted to say https: a header can only refuse its sender here."""
    if request.is_secure():
        return True
    forwarded = request.headers.get("X-Forwarded-Proto")
    if forwarded is not None and forwarded.split(",")[0].strip().lower() != "https":
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _plain_http_networks(tuple(settings.METRICS_PLAIN_HTTP_NETWORKS)))


@cache
def _plain_http_networks(names: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(name, strict=False) for name in names]


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _transport_ok(request):
        # Before the token is even read: a scraper set up over plain HTTP fails at its first
        # scrape (and its operator moves it to HTTPS), rather than sending the token in clear
        # every 15 s. Not a redirect: Prometheus would follow it and send the token again.
        return HttpResponse(
            "metrics are served over HTTPS only (plain HTTP from METRICS_PLAIN_HTTP_NETWORKS)\n",
            status=403,
            content_type="text/plain",
        )
    if not _allowed(request):
        response = HttpResponse("metrics need the METRICS_TOKEN bearer token\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    registry.register(DarkroomCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
