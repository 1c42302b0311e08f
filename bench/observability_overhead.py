"""What request correlation and metrics cost: GET /health/live through the full middleware stack
with and without RequestIdMiddleware and django-prometheus' middlewares (A B A B, interleaved),
and the worker's per-run metric updates beside one Redis PING (something every run does several
times). In-process (Django's test client), so the figures are the middleware's own cost.

    DJANGO_SETTINGS_MODULE=config.settings.local python bench/observability_overhead.py [--n 3000] [--rounds 4]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from processing.engine import metrics  # noqa: E402
from processing.lib.redis import get_redis  # noqa: E402

ADDED = {
    "processing.ops.request_id.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
}


def per_request_us(middleware: list[str], n: int) -> float:
    with override_settings(MIDDLEWARE=middleware):
        client = Client()
        for _ in range(50):
            client.get("/health/live")
        started = time.perf_counter()
        for _ in range(n):
            client.get("/health/live")
        return (time.perf_counter() - started) / n * 1e6


def per_run_metrics_us(n: int) -> float:
    job = SimpleNamespace(
        kind="bench", attempts=2, started_at=None, created_at=None, vendor=SimpleNamespace(slug="bench")
    )
    started = time.perf_counter()
    for _ in range(n):
        metrics.run_started(job=job)
        metrics.run_ended(job=job, outcome=metrics.SUCCEEDED, seconds=0.5)
    return (time.perf_counter() - started) / n * 1e6


def redis_ping_us(n: int) -> float:
    redis = get_redis()
    started = time.perf_counter()
    for _ in range(n):
        redis.ping()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    full = list(settings.MIDDLEWARE)
    without = [m for m in full if m not in ADDED]
    with_us, without_us, metric_us, ping_us = [], [], [], []
    for _ in range(args.rounds):
        without_us.append(per_request_us(without, args.n))
        with_us.append(per_request_us(full, args.n))
        metric_us.append(per_run_metrics_us(args.n))
        ping_us.append(redis_ping_us(args.n))
    base, added = statistics.median(without_us), statistics.median(with_us)
    print(f"multiprocess dir: {settings.PROMETHEUS_MULTIPROC_DIR}")
    print(f"GET /health/live, µs/request (median of {args.rounds} rounds of {args.n}):")
    print(f"  without request-id and django-prometheus middleware (anchor): {base:.1f}")
    print(f"  with them: {added:.1f}  (+{added - base:.1f} µs, x{added / base:.2f})")
    print(f"worker metrics per run (run_started + run_ended): {statistics.median(metric_us):.1f} µs")
    print(f"one Redis PING on {settings.REDIS_URL} (anchor): {statistics.median(ping_us):.1f} µs")


if __name__ == "__main__":
    main()
