"""The usage ledger (models.UsageDay): what each vendor's jobs did per UTC day, written by the
transitions it counts, never recomputed from job rows (retention and record deletion remove
those). Each write is one INSERT … ON DUPLICATE KEY UPDATE adding to the day's rows, whatever the
number of rows it touches: one per created job or batch, per chunk of cancels or retries, one per
finished run (docs/usage.md says why each is counted exactly once)."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from processing.jobs.charges import PIPELINE, step_kinds
from processing.jobs.models import StorageDay, UsageDay
from vendors.models import Vendor

logger = logging.getLogger(__name__)

COUNTERS = (
    "submitted",
    "succeeded",
    "failed",
    "cancelled",
    "images",
    "input_bytes",
    "output_bytes",
    "worker_ms",
    "ai_calls",
    "ai_input_tokens",
    "ai_output_tokens",
)
AI_ENDPOINT = "ai_endpoint"


@dataclass(frozen=True)
class Count:
    """What to add to one ledger row: (vendor, day, kind, step kind) and counter -> amount."""

    vendor_id: int
    kind: str
    amounts: Mapping[str, int]
    step_kind: str = ""
    day: date = field(default_factory=lambda: timezone.now().date())


def usage_add(*, counts: Iterable[Count]) -> None:
    """Add the counts to their day's rows: one statement, creating the rows it needs. Counts of
    one row are summed first. Runs in the caller's transaction, if any: a rolled-back change
    counts nothing."""
    if not settings.USAGE_LEDGER:
        return
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for count in counts:
        row = rows[(count.vendor_id, count.day, count.kind, count.step_kind)]
        for name, amount in count.amounts.items():
            row[name] += int(amount)
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(UsageDay._meta.db_table)
    keys = [qn(UsageDay._meta.get_field(name).column) for name in ("vendor", "day", "kind", "step_kind")]
    columns = [*keys, qn("vendor_slug"), *(qn(name) for name in COUNTERS)]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    if connection.vendor == "mysql":
        added = ", ".join(f"{qn(name)} = {qn(name)} + VALUES({qn(name)})" for name in COUNTERS)
        upsert = f"ON DUPLICATE KEY UPDATE {added}"
    else:  # SQLite (the quick start) and PostgreSQL
        added = ", ".join(f"{qn(name)} = {table}.{qn(name)} + excluded.{qn(name)}" for name in COUNTERS)
        upsert = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    params: list[Any] = []
    for (vendor_id, day, kind, step_kind), amounts in rows.items():
        params += [vendor_id, day, kind, step_kind, "", *(amounts[name] for name in COUNTERS)]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} {upsert}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Ledger rows this process has seen exist: a finishing run's UPDATE joins its row (below) only
# once the row is known to exist. Process-local and only ever a hint: a miss costs one INSERT
# IGNORE, a stale entry (a row removed since) one failed UPDATE and the general path.
_known_rows: set[tuple[int, date, str, str]] = set()
_KNOWN_ROWS_MAX = 10_000


def foldable(counts: list[Count]) -> Count | None:
    """The one count a finishing run's UPDATE can add itself (transitions.finish_run), joining its
    day's row: one statement, in autocommit, instead of an UPDATE, an upsert and a COMMIT. None
    when there are several rows to add (a pipeline's steps), or the ledger is off. MySQL only
    (the caller's multi-table UPDATE)."""
    if settings.USAGE_LEDGER and len(counts) == 1:
        return counts[0]
    return None


def row_ensure(count: Count) -> None:
    """Make sure the count's day row exists (with zeros), so that an UPDATE can join it."""
    key = (count.vendor_id, count.day, count.kind, count.step_kind)
    if key in _known_rows:
        return
    usage_add(
        counts=[Count(vendor_id=count.vendor_id, kind=count.kind, step_kind=count.step_kind, day=count.day, amounts={})]
    )
    if len(_known_rows) >= _KNOWN_ROWS_MAX:
        _known_rows.clear()
    _known_rows.add(key)


def row_forget(count: Count) -> None:
    _known_rows.discard((count.vendor_id, count.day, count.kind, count.step_kind))


def row_join(count: Count, alias: str) -> tuple[str, list[Any], list[str], list[Any]]:
    """The JOIN of the count's day row under `alias` (an inner join: no row, no change), and the
    assignments adding its amounts: (join, its params, assignments, their params)."""
    qn = connection.ops.quote_name
    keys = {"vendor": count.vendor_id, "day": count.day, "kind": count.kind, "step_kind": count.step_kind}
    on = " AND ".join(f"{alias}.{qn(UsageDay._meta.get_field(name).column)} = %s" for name in keys)
    join = f" JOIN {qn(UsageDay._meta.db_table)} {alias} ON {on}"
    amounts = {name: int(amount) for name, amount in count.amounts.items() if amount}
    assignments = [f"{alias}.{qn(name)} = {alias}.{qn(name)} + %s" for name in amounts]
    return join, list(keys.values()), assignments, list(amounts.values())


def submitted(*, vendor_id: int, kind: str, n: int = 1) -> Count:
    return Count(vendor_id=vendor_id, kind=kind, amounts={"submitted": n})


def cancelled(*, vendor_id: int, kind: str, n: int = 1) -> Count:
    return Count(vendor_id=vendor_id, kind=kind, amounts={"cancelled": n})


def failed(
    *,
    vendor_id: int,
    kind: str,
    started_at: datetime | None,
    now: datetime,
    ai_usage: Mapping[str, Any] | None = None,
) -> list[Count]:
    """A failed job; `ai_usage`: the AI calls its last attempt had answered (ProcessingError.ai_usage)."""
    amounts = {"failed": 1, **_worked(started_at, now), **_ai_spent(ai_usage)}
    return [Count(vendor_id=vendor_id, kind=kind, day=now.date(), amounts=amounts)]


def ai_spent(*, vendor_id: int, kind: str, now: datetime, ai_usage: Mapping[str, Any] | None) -> list[Count]:
    """The AI calls an attempt that is then retried had answered (none: nothing to count)."""
    amounts = _ai_spent(ai_usage)
    return [Count(vendor_id=vendor_id, kind=kind, day=now.date(), amounts=amounts)] if amounts else []


def _ai_spent(ai_usage: Mapping[str, Any] | None) -> dict[str, int]:
    if not ai_usage or not ai_usage.get("calls"):
        return {}
    return {
        "ai_calls": int(ai_usage["calls"]),
        "ai_input_tokens": int(ai_usage.get("input_tokens") or 0),
        "ai_output_tokens": int(ai_usage.get("output_tokens") or 0),
    }


def succeeded(
    *,
    vendor_id: int,
    kind: str,
    params: Mapping[str, Any] | None,
    started_at: datetime | None,
    now: datetime,
    input_bytes: int,
    output_bytes: int,
    ai_usage: Mapping[str, Any] | None = None,
) -> list[Count]:
    """A succeeded job: its images are its steps (a pipeline's, per step kind on rows of their own)."""
    steps = step_kinds(kind=kind, params=params)
    amounts = {
        "succeeded": 1,
        "images": len(steps),
        "input_bytes": input_bytes,
        "output_bytes": output_bytes,
        **_worked(started_at, now),
    }
    if kind == AI_ENDPOINT:
        # What the AI service counted (ImageOutput.usage: calls, input_tokens, output_tokens, ...).
        ai_usage = ai_usage or {}
        amounts["ai_calls"] = int(ai_usage.get("calls") or 1)
        for side in ("input", "output"):
            amounts[f"ai_{side}_tokens"] = int(ai_usage.get(f"{side}_tokens") or 0)
    counts = [Count(vendor_id=vendor_id, kind=kind, day=now.date(), amounts=amounts)]
    if kind == PIPELINE:
        per_step: dict[str, int] = defaultdict(int)
        for step in steps:
            per_step[step] += 1
        counts += [
            Count(vendor_id=vendor_id, kind=kind, step_kind=step, day=now.date(), amounts={"images": n})
            for step, n in per_step.items()
        ]
    return counts


def _worked(started_at: datetime | None, now: datetime) -> dict[str, int]:
    if started_at is None:
        return {}
    return {"worker_ms": max(0, round((now - started_at).total_seconds() * 1000))}


def usage_sample_storage(*, now: datetime | None = None) -> int:
    """Each vendor's stored bytes today (its storage quota's counter), one row per vendor and day;
    sampled again the same day, the row takes the newer figure. Returns how many were sampled."""
    now = now or timezone.now()
    vendors = list(Vendor.objects.values_list("pk", "storage_bytes"))
    StorageDay.objects.bulk_create(
        [
            StorageDay(vendor_id=pk, day=now.date(), originals_bytes=stored or 0, sampled_at=now)
            for pk, stored in vendors
        ],
        update_conflicts=True,
        # MySQL finds the conflicting key itself and refuses to be told; SQLite needs it.
        unique_fields=["vendor", "day"] if connection.features.supports_update_conflicts_with_target else None,
        update_fields=["originals_bytes", "sampled_at"],
        batch_size=500,
    )
    return len(vendors)


def pseudonym(slug: str) -> str:
    """A stable name for an offboarded vendor's rows that does not tell who it was."""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:usage:{slug}".encode()).hexdigest()[:16]
    return f"deleted-{digest}"


def on_vendor_delete(sender, instance: Vendor, **kwargs) -> None:
    """Before a vendor's rows lose their link (SET_NULL): name them, or remove them, as
    USAGE_ON_VENDOR_DELETE says."""
    choice = settings.USAGE_ON_VENDOR_DELETE
    for model in (UsageDay, StorageDay):
        rows = model.objects.filter(vendor_id=instance.pk)
        if choice == "delete":
            rows.delete()
        else:
            rows.update(vendor_slug=instance.slug if choice == "keep" else pseudonym(instance.slug))
