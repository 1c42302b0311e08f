"""Vendor B's webhook delay while vendor A floods the webhooks queue with slow deliveries, through
MariaDB, Redis, real worker processes and real HTTP receivers on loopback (issue 22, point 5).

    BENCH_DATABASE_NAME=darkroom_bench_webhooks .venv/bin/python bench/webhooks_fairness.py \
        [--endpoints 20] [--jobs 20] [--timeout 1] [--threads 4] [--give-up 600]

Vendor A has `--endpoints` endpoints on a receiver that answers only after WEBHOOK_TIMEOUT_S
(`--timeout`; every attempt times out and is retried) and `--jobs` finished jobs: endpoints x jobs
deliveries. Vendor B has one endpoint on a receiver that answers at once. One worker runs the
jobs (2 threads), another serves the `webhooks` queue (`--threads`, as WEBHOOK_THREADS in
docker-compose.yml), with production's webhook settings but the timeout. Printed: B's delay from
its job's finish to its `job.succeeded` arriving, alone (the anchor) and under A's flood, and
A's attempts that went before it. In one FIFO queue B waits for about
endpoints x jobs x timeout / threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=1.0, help="WEBHOOK_TIMEOUT_S")
    parser.add_argument("--threads", type=int, default=4, help="threads of the webhooks worker")
    parser.add_argument("--give-up", type=float, default=600, help="seconds to wait for B's delivery")
    args = parser.parse_args()
    os.environ["WEBHOOK_TIMEOUT_S"] = str(args.timeout)

    from bench.harness import Worker, fresh_database, setup_django

    setup_django()
    fresh_database()
    from django.conf import settings

    from processing.jobs import services as job_services
    from processing.jobs.models import Job
    from processing.webhooks import services
    from tests.factories import make_record, make_vendor
    from tests.webhooks.receiver import Receiver

    a, b = make_vendor("bench-flood"), make_vendor("bench-lone")
    slow_paths = [f"/slow/{n}" for n in range(args.endpoints)]
    with (
        Receiver(paths=slow_paths) as slow,
        Receiver() as fast,
        Worker(queues=["sleepy"], threads=2),
        Worker(queues=["webhooks"], threads=args.threads),
    ):
        slow.sleep_s = args.timeout + 1
        slow.server.httpd.handle_error = lambda *exc: None  # the client hung up first: expected
        services.endpoint_create(vendor=b, url=fast.url, events=["job.succeeded"])

        def b_delay(give_up: float) -> float | None:
            """Seconds from B's job finishing to its delivery arriving; None after give_up."""
            seen = len(fast.received)
            job = job_services.job_create(vendor=b, kind="sleepy", record=make_record(b), params={"seconds": 0.01})
            deadline = time.monotonic() + give_up
            while len(fast.received) == seen:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.02)
            job.refresh_from_db()
            return fast.received[seen].at - job.finished_at.timestamp()

        alone = b_delay(60)
        for path in slow_paths:
            services.endpoint_create(vendor=a, url=slow.server.url(path), events=["job.succeeded"])
        records = [make_record(a) for _ in range(args.jobs)]
        job_services.batch_create(vendor=a, kind="sleepy", records=records, params={"seconds": 0.01})
        while Job.objects.filter(vendor=a, state="succeeded").count() < args.jobs or not slow.received:
            time.sleep(0.1)
        before_b = len(slow.received)
        flooded = b_delay(args.give_up)
        during_b = len(slow.received) - before_b

    deliveries = args.endpoints * args.jobs
    print(
        f"vendor A: {args.endpoints} endpoints x {args.jobs} jobs = {deliveries} deliveries to a receiver slower "
        f"than WEBHOOK_TIMEOUT_S={args.timeout:g} s; webhooks worker with {args.threads} threads; "
        f"in flight per vendor: {getattr(settings, 'WEBHOOK_VENDOR_IN_FLIGHT', 'no cap')}"
    )
    print(f"vendor B alone: job.succeeded {alone:.2f} s after its job finished")
    if flooded is None:
        print(
            f"vendor B under A's flood: not delivered after {args.give_up:g} s ({during_b} of A's attempts meanwhile)"
        )
    else:
        print(
            f"vendor B under A's flood: job.succeeded {flooded:.2f} s after its job finished ({during_b} of A's attempts meanwhile)"
        )


if __name__ == "__main__":
    main()
