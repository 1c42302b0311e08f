"""darkroom usage --month YYYY-MM [--vendor V] [--csv]: the usage ledger's month, per vendor × kind."""

from __future__ import annotations

from processing.jobs import selectors
from processing.ops.cli.common import EXIT_USAGE, fail, table

COLUMNS = ["submitted", "succeeded", "failed", "cancelled", "images", "input_bytes", "output_bytes", "ai_calls"]


def add_arguments(parser) -> None:
    parser.add_argument("--month", required=True, help="YYYY-MM (UTC days)")
    parser.add_argument("--vendor", help="one vendor's slug (or the name a deleted vendor's rows kept)")
    parser.add_argument("--csv", action="store_true", help="CSV for invoicing: one line per vendor × kind")


def handle(command, options) -> None:
    try:
        month = selectors.parse_month(options["month"])
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    if options["csv"]:
        command.stdout.write(selectors.ops_usage_month_csv(month=month, vendor=options["vendor"]), ending="")
        return
    rows = selectors.ops_usage_month(month=month, vendor=options["vendor"])
    lines = [
        [row["vendor"], row["kind"], *(row[name] for name in COLUMNS), f"{row['worker_ms'] / 1000:.1f}"] for row in rows
    ]
    lines.append(
        [
            "total",
            "",
            *(sum(row[name] for row in rows) for name in COLUMNS),
            f"{sum(row['worker_ms'] for row in rows) / 1000:.1f}",
        ]
    )
    command.stdout.write(table(["vendor", "kind", *COLUMNS, "worker_s"], lines))
