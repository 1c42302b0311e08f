"""The engine at scale (issue 12), through MariaDB, Redis and real worker processes:

- short-job drain: a bulk request of `transform` thumbnails, full path, against Dramatiq alone
  (a no-op actor on the same broker, threads, prefetch and poll interval), interleaved; 1 and 2
  worker processes; and with the usage ledger against without it (USAGE_LEDGER=0), interleaved;
- SQL statements per short job (this connection's Com_* counters, the worker's code run here);
- at backlogs of 0, 10k, 100k and 1M waiting jobs of vendor A (filled with INSERT … SELECT from
  MariaDB's sequence table): one admission pass admitting 8 jobs (time, statements, index rows
  read) beside a one-row UPDATE on the same connection; the drain rate; vendor B's start
  latency; and, at 100k, how many of A's jobs start before A's `high` job.

    .venv/bin/python bench/engine_scale.py [--smoke]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Row, Worker, counter_delta, median_ms, session_counters, statements  # noqa: E402

KIND = "transform"
THUMBNAIL = {"width": 32, "mode": "thumbnail"}
ADMIT = 8  # the production capacity of `transform`


def run(smoke: bool) -> list[Row]:
    from bench import harness

    harness.fresh_database()
    a, record_a, b, record_b = _vendors()
    rows: list[Row] = []

    def add(new: list[Row]) -> None:
        for row in new:  # as they come: a long run that is stopped still says something
            print(
                f"# {row.what}: {row.figure} {row.unit} ({row.anchor} {row.anchor_figure})", file=sys.stderr, flush=True
            )
        rows.extend(new)

    add(_drain_against_dramatiq(a, record_a, smoke))
    add(_drain_with_and_without_the_ledger(a, record_a, smoke))
    add(_statements_per_job(a, record_a, smoke))
    levels = [0, 1_000] if smoke else [0, 1_000, 10_000, 100_000, 1_000_000]
    for level in levels:
        _fill(a, record_a, level)
        add(_admission_pass(level, smoke))
        if smoke and level != levels[-1]:
            continue  # one worker start less
        add(_under_load(level, a, record_a, b, record_b, smoke, with_high=level == (levels[-1] if smoke else 100_000)))
    return rows


def _vendors():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bench.images import small_png
    from vendors import services as vendor_services
    from vendors.plans import ensure_default_plans

    ensure_default_plans()
    made = []
    for slug, plan in (("bench-a", "unlimited"), ("bench-b", "unlimited")):
        vendor = vendor_services.vendor_create(slug=slug, plan_slug=plan)
        project = vendor_services.project_default(vendor=vendor)
        record = vendor_services.record_create(project=project, upload=SimpleUploadedFile("s.png", small_png()))
        made += [vendor, record]
    return made


def _waiting() -> int:
    from processing.jobs.models import Job, Lane

    return Job.objects.filter(kind=KIND, lane=Lane.WAITING).count()


def _fill(vendor, record, level: int) -> None:
    """Top the waiting backlog of `vendor` up to `level` jobs, oldest first, in one statement."""
    import json

    from processing.jobs.kinds import get_processor
    from tests.support.backlog import insert_waiting_jobs

    missing = level - _waiting()
    if missing <= 0:
        return
    params = json.dumps(get_processor(KIND).clean_params(THUMBNAIL))  # as job_create stores them
    insert_waiting_jobs(vendor=vendor, record=record, kind=KIND, n=missing, params=params)


def _one_row_update(job_id) -> None:
    from processing.jobs.models import Job

    Job.objects.filter(pk=job_id).update(progress_message="bench")


def _admission_pass(level: int, smoke: bool) -> list[Row]:
    """Passes admitting 8 jobs each, beside a one-row UPDATE, interleaved (A B A B)."""
    from django.conf import settings

    from processing.engine.admission import admit
    from processing.jobs.models import Job, Lane
    from processing.jobs.wakeup import mark_kinds
    from processing.lib.redis import get_redis

    assert settings.JOB_QUEUE_CAPACITY[KIND] == ADMIT
    anchor_id = Job.objects.values_list("pk", flat=True).first()
    passes, anchors, admitted, deltas = [], [], [], []
    for _ in range(5 if smoke else 21):
        # Nothing in flight: each pass admits a full capacity (the backlog shrinks by 8 a pass).
        Job.objects.filter(lane=Lane.IN_FLIGHT).update(lane=Lane.DONE, state="cancelled")
        get_redis().delete("darkroom-bench:transform")
        mark_kinds([KIND])
        before = session_counters()
        started = time.perf_counter()
        admitted.append(admit(KIND) or 0)
        passes.append(time.perf_counter() - started)
        deltas.append(counter_delta(before, session_counters()))
        started = time.perf_counter()
        _one_row_update(anchor_id) if anchor_id else None
        anchors.append(time.perf_counter() - started)
    last = deltas[-1]
    read = sum(v for k, v in last.items() if k.startswith("Handler_read"))
    label = f"{level:,} waiting"
    if level and max(admitted) != ADMIT:
        raise AssertionError(f"a pass admitted {admitted} at {label}")
    return [
        Row("admission", f"pass admitting {max(admitted)} jobs, {label}", median_ms(passes), "ms",
            "one-row UPDATE, same connection", median_ms(anchors)),
        Row("admission", f"statements / index rows read per pass, {label}", f"{statements(last)} / {read}"),
    ]  # fmt: skip


def _statements_per_job(vendor, record, smoke: bool) -> list[Row]:
    """The worker's hot path, run on this connection: admission passes and job_run for each
    admitted job, counted by this session's Com_* counters."""
    from processing.engine.admission import dispatch_marked
    from processing.engine.runner import job_run
    from processing.jobs import services
    from processing.jobs.models import Job, Lane
    from processing.lib.redis import get_redis

    n = 40 if smoke else 400
    batch = services.batch_create(vendor=vendor, kind=KIND, params=THUMBNAIL, records=[record] * n)
    delta: dict[str, int] = {}

    def counted(call, **kwargs) -> None:
        before = session_counters()
        call(**kwargs)
        for name, value in counter_delta(before, session_counters()).items():
            delta[name] = delta.get(name, 0) + value

    done = 0
    while done < n:
        counted(dispatch_marked)
        for job_id in Job.objects.filter(batch=batch, lane=Lane.IN_FLIGHT, state="queued").values_list("pk", flat=True):
            counted(job_run, job_id=str(job_id), kind=KIND)
            done += 1
    get_redis().delete("darkroom-bench:transform")
    assert Job.objects.filter(batch=batch, state="succeeded").count() == n
    kinds = ", ".join(f"{k[4:]} {v / n:.2f}" for k, v in sorted(delta.items()) if k.startswith("Com_"))
    return [Row("statements", f"SQL statements per short job ({n} jobs, admission included)",
                round(statements(delta) / n, 2), "", "issue: ≈16 before", 16),
            Row("statements", "of which, per job", kinds)]  # fmt: skip


def _wait(predicate, timeout: float = 600, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise TimeoutError("the bench waited too long")


def _full_drain(vendor, record, n: int) -> float:
    """Jobs per second for one bulk request of n thumbnails, from the request to the last result."""
    from processing.jobs import services
    from processing.jobs.models import Batch

    started = time.perf_counter()
    batch = services.batch_create(vendor=vendor, kind=KIND, params=THUMBNAIL, records=[record] * n)
    _wait(lambda: Batch.objects.filter(pk=batch.pk, finished_at__isnull=False).exists())
    return n / (time.perf_counter() - started)


def _dramatiq_drain(n: int) -> float:
    import dramatiq
    import redis
    from django.conf import settings

    from bench.noop_actor import COUNTER

    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete(COUNTER)
    broker = dramatiq.get_broker()
    started = time.perf_counter()
    for _ in range(n):
        broker.enqueue(dramatiq.Message(queue_name="bench_noop", actor_name="noop", args=(), kwargs={}, options={}))
    _wait(lambda: int(r.get(COUNTER) or 0) >= n, interval=0.002)
    return n / (time.perf_counter() - started)


def _drain_against_dramatiq(vendor, record, smoke: bool) -> list[Row]:
    import os

    from bench.harness import BENCH_REDIS

    n = 100 if smoke else int(os.environ.get("BENCH_DRAIN_JOBS", "1000"))
    noop_cmd = [sys.executable, "-m", "dramatiq", "bench.noop_actor"]
    os.environ.update(BENCH_REDIS_URL=BENCH_REDIS, dramatiq_queue_prefetch="64", dramatiq_worker_timeout="100")
    full, alone = [], []
    with Worker(queues=[KIND]), Worker(args=noop_cmd):
        for _ in range(1 if smoke else 2):  # interleaved: A B A B
            full.append(_full_drain(vendor, record, n))
            alone.append(_dramatiq_drain(5 * n))
    rows = [
        Row("drain", f"{n} thumbnails, one bulk request, 1 process × 2 threads", round(max(full)),
            "jobs/s", "Dramatiq alone, no-op actor", round(max(alone))),
    ]  # fmt: skip
    if smoke:
        return rows
    with Worker(processes=2, queues=[KIND]):
        two = _full_drain(vendor, record, n)
    with Worker(queues=[KIND]):
        one = _full_drain(vendor, record, n)
    return rows + [
        Row("drain", f"{n} thumbnails, 2 processes × 2 threads", round(two), "jobs/s", "1 process, same minute", round(one)),
    ]  # fmt: skip


def _drain_with_and_without_the_ledger(vendor, record, smoke: bool) -> list[Row]:
    """The usage ledger's cost on short jobs: the same drain with it and with USAGE_LEDGER off (in
    the worker and in this process, which creates the batch), interleaved A B A B A B."""
    import os

    from django.test import override_settings

    n = 100 if smoke else int(os.environ.get("BENCH_DRAIN_JOBS", "1000"))
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(1 if smoke else int(os.environ.get("BENCH_LEDGER_ROUNDS", "6"))):
        for ledger in (True, False):
            with override_settings(USAGE_LEDGER=ledger), Worker(queues=[KIND], env={"USAGE_LEDGER": str(int(ledger))}):
                rates[ledger].append(_full_drain(vendor, record, n))
            print(
                f"#   ledger {'on ' if ledger else 'off'}: {rates[ledger][-1]:.0f} jobs/s", file=sys.stderr, flush=True
            )
    upsert, update = _ledger_upsert_ms(vendor, 9 if smoke else 201)
    pairs = [on / off for on, off in zip(rates[True], rates[False], strict=True)]
    return [
        Row("drain", f"{n} thumbnails, 1 process × 2 threads, usage ledger on (median of {len(rates[True])})",
            round(statistics.median(rates[True])), "jobs/s", "ledger off, interleaved",
            round(statistics.median(rates[False]))),
        Row("drain", "ledger on / off, per interleaved pair (median)", round(statistics.median(pairs), 3), "",
            "pairs", ", ".join(f"{p:.2f}" for p in pairs)),
        Row("ledger", "a finished job's ledger upsert (median)", upsert, "ms",
            "a one-row UPDATE, same connection", update),
    ]  # fmt: skip


def _ledger_upsert_ms(vendor, samples: int) -> tuple[float, float]:
    """What the ledger adds to a finished run, alone: its upsert, interleaved with a one-row UPDATE."""
    from django.utils import timezone

    from processing.jobs import usage
    from processing.jobs.models import Job

    job_id = Job.objects.values_list("pk", flat=True).first()
    upserts, updates = [], []
    for _ in range(samples):
        now = timezone.now()
        counts = usage.succeeded(
            vendor_id=vendor.pk, kind=KIND, params=THUMBNAIL, started_at=now, now=now, input_bytes=1, output_bytes=1
        )
        started = time.perf_counter()
        usage.usage_add(counts=counts)
        upserts.append(time.perf_counter() - started)
        started = time.perf_counter()
        Job.objects.filter(pk=job_id).update(progress_percent=len(updates) % 100)  # a change: a commit too
        updates.append(time.perf_counter() - started)
    return median_ms(upserts), median_ms(updates)


def _started(job_id):
    from processing.jobs.models import Job

    return Job.objects.filter(pk=job_id, started_at__isnull=False).values_list("created_at", "started_at").first()


# Where vendor B's start is also measured through the API (issue 25 point 4).
API_LEVELS = (100_000,)


def _started_after_post(vendor, record, samples: int) -> list[float]:
    """Seconds from the moment B's POST /api/v1/jobs/ answered (client side) to the job's
    started_at, through uvicorn on the bench settings (production's engine settings, the
    web's database pool) and the worker already running."""
    from datetime import UTC, datetime

    import httpx

    from bench.api_load import _free_port, _Uvicorn
    from tests.factories import make_member
    from vendors import services as vendor_services

    owner = make_member(vendor, f"bench-b-owner-{time.monotonic_ns()}", role="owner")
    token = vendor_services.api_token_for(user=owner)
    seconds = []
    with _Uvicorn(_free_port(), pooled=True) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        body = {"kind": KIND, "record": record.pk, "params": THUMBNAIL}
        http.post("/api/v1/jobs/", json=body, headers=headers).raise_for_status()  # warm-up
        for _ in range(samples):
            time.sleep(0.3)  # the worker idle again, as a lone request finds it
            response = http.post("/api/v1/jobs/", json=body, headers=headers)
            answered = datetime.now(UTC)
            response.raise_for_status()
            job_id = response.json()["id"]
            _, started_at = _wait(lambda job_id=job_id: _started(job_id))
            seconds.append((started_at - answered).total_seconds())
    return seconds


def _under_load(level, a, record_a, b, record_b, smoke: bool, with_high: bool) -> list[Row]:
    from processing.jobs import services
    from processing.jobs.models import Job

    label = f"{level:,} waiting"
    rows = []
    with Worker(queues=[KIND]):
        if level:
            time.sleep(1)
            done = Job.objects.filter(kind=KIND, state="succeeded")
            before, started = done.count(), time.perf_counter()
            time.sleep(2 if smoke else 6)
            rate = (done.count() - before) / (time.perf_counter() - started)
            rows.append(Row("backlog", f"drain rate, {label} of vendor A", round(rate), "jobs/s"))
        latencies = []
        for _ in range(3):
            job = services.job_create(vendor=b, kind=KIND, params=THUMBNAIL, record=record_b)
            created, started_at = _wait(lambda job=job: _started(job.pk))
            latencies.append((started_at - created).total_seconds())
        rows.append(Row("backlog", f"vendor B's job starts after, {label} of A", median_ms(latencies), "ms"))
        if level in API_LEVELS or smoke:
            through_api = _started_after_post(b, record_b, 3 if smoke else 7)
            rows.append(Row("backlog", f"vendor B's job starts after its POST answers (API, uvicorn), {label} of A",
                            median_ms(through_api), "ms", "created in-process, same worker", median_ms(latencies)))  # fmt: skip
        if with_high:
            high = services.job_create(vendor=a, kind=KIND, params=THUMBNAIL, record=record_a, priority="high")
            created, started_at = _wait(lambda: _started(high.pk))
            ahead = (
                Job.objects.filter(vendor=a, kind=KIND, started_at__gte=created, started_at__lt=started_at)
                .exclude(pk=high.pk)
                .count()
            )
            rows.append(Row("backlog", f"A's jobs started before A's high job, {label}", ahead, "jobs",
                            "queue capacity", ADMIT))  # fmt: skip
    return rows
