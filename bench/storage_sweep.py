"""The storage sweep (issue 21): with N records stored (100k; each an original and a result file
on local storage, a job row naming the result), 1,000 of them deleted, what removing their files
costs, beside what the sweep it replaced cost (it listed every results folder and read a job row
per folder on every retention run, whatever had changed). Time, storage calls (counted on the
storage class) and SQL statements (this connection's Com_* counters).

    .venv/bin/python bench/run_all.py --only storage_sweep [--smoke]
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, Row, counter_delta, session_counters, statements  # noqa: E402

STORED = int(os.environ.get("SWEEP_STORED", 100_000))
DELETED = 1_000
SAMPLE = int(os.environ.get("SWEEP_OLD_SAMPLE", 2_000))
CALLS = ("listdir", "delete", "exists", "get_modified_time", "open", "save", "size")


def run(smoke: bool) -> list[Row]:
    from bench import harness

    harness.fresh_database()
    stored, deleted = (2_000, 100) if smoke else (STORED, DELETED)
    vendor, ids = _stored(stored)
    label = f"{stored // 1000}k stored"
    rows: list[Row] = []

    # The old sweep reads a record query per folder on an unindexed column: quadratic. It is timed
    # on its first SAMPLE folders and scaled to all of them (its calls are per folder, so exact).
    sample = min(stored, SAMPLE)
    old_s, old_calls, old_sql = _measured(lambda: _list_everything_sweep(folders=sample))
    scale = stored / sample
    old_s, old_sql = old_s * scale, round(old_sql * scale)
    old_calls = Counter({name: round(count * scale) for name, count in old_calls.items()})
    idle_s, idle_calls, idle_sql = _measured(_sweep)
    delete_s, _, delete_sql = _measured(lambda: _delete(vendor, ids[:deleted]))
    sweep_s, sweep_calls, sweep_sql = _measured(_sweep)
    anchor = f"old sweep listing all ({label}{', scaled from ' + format(sample, ',') if scale > 1 else ''})"
    rows += [
        Row(
            "storage_sweep",
            f"sweep after {deleted:,} deleted, {label}",
            round(sweep_s, 3),
            "s",
            anchor,
            round(old_s, 3),
        ),
        Row(
            "storage_sweep", "  its storage calls", sum(sweep_calls.values()), "calls", anchor, sum(old_calls.values())
        ),
        Row("storage_sweep", "  its SQL statements", sweep_sql, "statements", anchor, old_sql),
        Row("storage_sweep", f"sweep with nothing deleted, {label}", round(idle_s, 4), "s", anchor, round(old_s, 3)),
        Row("storage_sweep", "  its storage calls", sum(idle_calls.values()), "calls", anchor, sum(old_calls.values())),
        Row("storage_sweep", f"deleting the {deleted:,} records' rows (journal written)", round(delete_s, 3), "s"),
        Row("storage_sweep", "  its SQL statements", delete_sql, "statements"),
    ]
    for name, count in sorted(sweep_calls.items()):
        print(f"# new sweep {name}: {count}", file=sys.stderr)
    for name, count in sorted(old_calls.items()):
        print(f"# old sweep {name}: {count}", file=sys.stderr)
    return rows


def _stored(count: int):
    """`count` records of one vendor, each with its original and one result file on disk (in a
    folder of its job, as the runner names them) and a succeeded job naming the result."""
    from django.conf import settings
    from django.utils import timezone

    from processing.jobs.models import Job, Lane
    from vendors import services as vendor_services
    from vendors.models import Record
    from vendors.plans import ensure_default_plans

    media = Path(settings.MEDIA_ROOT)
    shutil.rmtree(media, ignore_errors=True)
    ensure_default_plans()
    vendor = vendor_services.vendor_create(slug="bench-sweep", plan_slug="unlimited")
    project = vendor_services.project_default(vendor=vendor)
    now = timezone.now()
    records, jobs = [], []
    originals = media / "originals" / str(vendor.pk)
    for index in range(count):
        job_id, token = uuid.uuid4(), uuid.uuid4().hex
        original = f"originals/{vendor.pk}/{index:06d}/o.png"
        result = f"results/{vendor.pk}/{job_id}/{token}.png"
        for name in (original, result):
            path = media / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"0123456789")
        records.append(Record(vendor=vendor, project=project, original=original, processed=result, size_bytes=10))
        jobs.append((job_id, result))
    assert originals.exists()
    made = Record.objects.bulk_create(records, batch_size=2_000)
    Job.objects.bulk_create(
        [
            Job(
                id=job_id,
                vendor=vendor,
                record_id=record.pk,
                kind="transform",
                state="succeeded",
                lane=Lane.DONE,
                result={"name": result, "content_type": "image/png", "width": 1, "height": 1},
                finished_at=now,
            )
            for (job_id, result), record in zip(jobs, made, strict=True)
        ],
        batch_size=2_000,
    )
    # Past the old sweep's grace period, so it would have had to look at every file.
    old = time.time() - 2 * settings.RESULT_ORPHAN_GRACE_S
    for folder, _, files in os.walk(media / "results"):
        for name in files:
            os.utime(os.path.join(folder, name), (old, old))
    return vendor, sorted(record.pk for record in made)


def _measured(fn):
    """Seconds, storage calls by name, SQL statements of one call of `fn`."""
    from django.core.files.storage import FileSystemStorage

    calls: Counter[str] = Counter()
    originals = {name: getattr(FileSystemStorage, name) for name in CALLS}

    def counting(name):
        def call(self, *args, **kwargs):
            calls[name] += 1
            return originals[name](self, *args, **kwargs)

        return call

    for name in CALLS:
        setattr(FileSystemStorage, name, counting(name))
    before = session_counters()
    started = time.perf_counter()
    try:
        fn()
    finally:
        seconds = time.perf_counter() - started
        for name, method in originals.items():
            setattr(FileSystemStorage, name, method)
    return seconds, calls, statements(counter_delta(before, session_counters()))


def _delete(vendor, ids: list[int]) -> None:
    from processing.jobs.services import records_delete

    records_delete(vendor=vendor, record_ids=ids, audited=False, drain=False)


def _sweep() -> None:
    from processing.jobs.services import storage_sweep

    storage_sweep()


def _list_everything_sweep(*, folders: int | None = None) -> int:
    """The sweep this replaced (processing/jobs/services/housekeeping.py before issue 21), kept
    here as the anchor: every results folder listed, every file's time read, a record query and
    a job row per folder, on every run. Stops after `folders` job folders when given."""
    from datetime import timedelta

    from django.conf import settings
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from processing.jobs.models import Job
    from vendors.models import Record

    cutoff = timezone.now() - timedelta(seconds=settings.RESULT_ORPHAN_GRACE_S)
    removed = 0
    if not default_storage.exists("results"):
        return 0
    seen = 0
    for vendor_dir in default_storage.listdir("results")[0]:
        for job_dir in default_storage.listdir(f"results/{vendor_dir}")[0]:
            seen += 1
            if folders is not None and seen > folders:
                return removed
            folder = f"results/{vendor_dir}/{job_dir}"
            names = [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]
            old = [name for name in names if default_storage.get_modified_time(name) < cutoff]
            if not old:
                continue
            named = set(Record.objects.filter(processed__in=old).values_list("processed", flat=True))
            try:
                result = Job.objects.filter(pk=uuid.UUID(job_dir)).values_list("result", flat=True).first()
            except ValueError:
                result = None
            if result:
                named.add(result.get("name"))
            for name in old:
                if name not in named:
                    default_storage.delete(name)
                    removed += 1
    return removed


if __name__ == "__main__":
    from bench.harness import setup_django

    setup_django(media_root=ROOT / "test-artifacts" / "bench-media-sweep")
    for row in run("--smoke" in sys.argv):
        print(row)
