"""Priorities and fairness at the sizes of the engine issue, through MariaDB, Redis and a real
worker process: 500 waiting normal jobs and one high; 2,000 of vendor A's jobs and one of B's.

    .venv/bin/python bench/engine_fairness.py [--normal 500] [--flood 2000] [--seconds 0.01]

Prints how many jobs started ahead of the high job and of vendor B's job after they were
submitted, how long each waited, and the no-op throughput of the pipeline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("TEST_DATABASE_URL", "mysql://root@127.0.0.1:3306/darkroom_bench")
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--normal", type=int, default=500)
    parser.add_argument("--flood", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=0.01, help="work per job")
    args = parser.parse_args()

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS darkroom_bench CHARACTER SET utf8mb4")
    call_command("migrate", verbosity=0)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()

    from processing.jobs.models import Job
    from tests.worker import WorkerProcess

    Job.objects.all().delete()
    worker = WorkerProcess(threads=2, queues=["sleepy"]).start()
    try:
        priority(args)
        fairness(args)
    finally:
        worker.stop()


def vendor(slug: str, plan: str):
    from tests.factories import make_record
    from vendors.models import Vendor
    from vendors.plans import ensure_default_plans
    from vendors.services import vendor_create

    ensure_default_plans()
    existing = Vendor.objects.filter(slug=slug).first() or vendor_create(slug=slug, plan_slug=plan)
    return existing, make_record(existing)


def submit(owner, record, n, seconds, priority=None):
    from processing.jobs import services

    batch = services.batch_create(
        vendor=owner, kind="sleepy", params={"seconds": seconds}, records=[record] * n, priority=priority
    )
    return list(batch.jobs.values_list("pk", flat=True))


def wait_done(ids, timeout=900):
    from processing.jobs.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk__in=ids).exclude(state__in=["succeeded", "failed", "cancelled"]).exists():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.2)


def priority(args) -> None:
    from processing.jobs.models import Job

    owner, record = vendor("bench-a", "unlimited")
    normals = submit(owner, record, args.normal, args.seconds)
    time.sleep(0.5)
    submitted = time.time()
    high = submit(owner, record, 1, args.seconds, priority="high")[0]
    wait_done([*normals, high])
    high_job = Job.objects.get(pk=high)
    ahead = Job.objects.filter(pk__in=normals, started_at__gt=high_job.created_at, started_at__lt=high_job.started_at)
    waited = high_job.started_at.timestamp() - submitted
    print(
        f"priority: {args.normal} normal jobs queued; a high job submitted behind them started after "
        f"{ahead.count()} of them (queue capacity {capacity()}), {waited * 1000:.0f} ms after submission"
    )


def fairness(args) -> None:
    from processing.jobs.models import Job

    a, record_a = vendor("bench-flood", "unlimited")
    b, record_b = vendor("bench-lone", "standard")
    started = time.time()
    flood = submit(a, record_a, args.flood, args.seconds)
    time.sleep(0.5)
    lone = submit(b, record_b, 1, args.seconds)[0]
    wait_done([*flood, lone])
    elapsed = time.time() - started
    lone_job = Job.objects.get(pk=lone)
    ahead = Job.objects.filter(pk__in=flood, started_at__gt=lone_job.created_at, started_at__lt=lone_job.started_at)
    behind = Job.objects.filter(pk__in=flood, started_at__gt=lone_job.started_at).count()
    waited = (lone_job.started_at - lone_job.created_at).total_seconds()
    print(
        f"fairness: vendor A flooded {args.flood} jobs (plan unlimited); vendor B's one job started after "
        f"{ahead.count()} of A's (queue capacity {capacity()}), {waited * 1000:.0f} ms after submission, "
        f"with {behind} of A's still behind it"
    )
    print(
        f"throughput: {args.flood + 1} jobs of {args.seconds * 1000:.0f} ms in {elapsed:.1f} s "
        f"= {(args.flood + 1) / elapsed:.0f} jobs/s on 2 worker threads"
    )


def capacity() -> int:
    from django.conf import settings

    return settings.JOB_QUEUE_CAPACITY.get("sleepy", settings.JOB_QUEUE_CAPACITY_DEFAULT)


if __name__ == "__main__":
    main()
