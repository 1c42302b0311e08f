"""Reads of the usage ledger (models.UsageDay): a vendor's days, and a month for operators."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from processing.jobs.models import StorageDay, UsageDay
from processing.jobs.usage import COUNTERS
from vendors.models import Vendor

MAX_DAYS = 366  # a year per read, leap or not


def usage_days(*, vendor: Vendor, start: date, end: date, kind: str | None = None) -> QuerySet[UsageDay]:
    """The vendor's ledger rows from `start` to `end` (inclusive), by day, kind, step kind: one
    range of the (vendor, day, kind, step_kind) key, read in its order."""
    rows = UsageDay.objects.filter(vendor=vendor, day__gte=start, day__lte=end)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("day", "kind", "step_kind")


def usage_totals(rows: list[UsageDay]) -> dict[str, Any]:
    """Totals of ledger rows: overall and per kind (the kinds' own rows), and per pipeline step
    kind (images only)."""
    overall = dict.fromkeys(COUNTERS, 0)
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    steps: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.step_kind:
            steps[row.step_kind] += row.images
            continue
        for name in COUNTERS:
            value = getattr(row, name)
            overall[name] += value
            kinds[row.kind][name] += value
    return {"overall": overall, "kinds": dict(sorted(kinds.items())), "steps": dict(sorted(steps.items()))}


def usage_daily_by_kind(*, vendor: Vendor, days: int, today: date) -> tuple[list[date], dict[str, list[int]]]:
    """The last `days` days to `today`, and per kind its images each day (0 where none): what
    the portal's chart draws."""
    start = today - timedelta(days=days - 1)
    dates = [start + timedelta(days=n) for n in range(days)]
    series: dict[str, list[int]] = {}
    for row in usage_days(vendor=vendor, start=start, end=today).filter(step_kind=""):
        series.setdefault(row.kind, [0] * days)[(row.day - start).days] += row.images
    return dates, dict(sorted(series.items()))


def ops_usage_month(*, month: date, vendor: str | None = None, order: str = "vendor") -> list[dict[str, Any]]:
    """For operators: each vendor × kind's totals of the month that `month` falls in (a kind's own
    rows), with the vendor's slug (or the name its rows kept when it was deleted)."""
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    rows = UsageDay.objects.filter(day__gte=start, day__lte=end, step_kind="")
    if vendor:
        rows = rows.filter(Q(vendor__slug=vendor) | Q(vendor__isnull=True, vendor_slug=vendor))
    named = Coalesce(F("vendor__slug"), F("vendor_slug"))
    totals = (
        rows.annotate(vendor_name=named)
        .values("vendor_name", "kind")
        .annotate(**{name: Sum(name) for name in COUNTERS})
    )
    ordering = ORDERS.get(order.lstrip("-"), ("vendor_name",))
    reverse = order.startswith("-")
    listed = list(totals.order_by(*(f"-{name}" if reverse else name for name in ordering), "vendor_name", "kind"))
    for row in listed:
        row["vendor"] = row.pop("vendor_name") or "?"
    return listed


ORDERS = {"vendor": ("vendor_name", "kind"), "kind": ("kind",), **{name: (name,) for name in COUNTERS}}


def usage_storage_days(*, vendor: Vendor, start: date, end: date) -> QuerySet[StorageDay]:
    return StorageDay.objects.filter(vendor=vendor, day__gte=start, day__lte=end).order_by("day")


def parse_month(text: str) -> date:
    """The first day of a month written YYYY-MM; ValueError otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        if len(text) != 7 or not 1 <= year <= 9999:
            raise ValueError
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a month written YYYY-MM") from None


CSV_COLUMNS = ("month", "vendor", "kind", *(name for name in COUNTERS if name != "worker_ms"), "worker_seconds")


def ops_usage_month_csv(*, month: date, vendor: str | None = None) -> str:
    """The month for invoicing: one line per vendor × kind, in CSV_COLUMNS, vendors in order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in ops_usage_month(month=month, vendor=vendor):
        values = {**row, "month": month.strftime("%Y-%m"), "worker_seconds": f"{row['worker_ms'] / 1000:.3f}"}
        writer.writerow([values[name] for name in CSV_COLUMNS])
    return out.getvalue()
