"""darkroom status ID, darkroom list, darkroom stats: reads only."""

from __future__ import annotations

from processing.jobs import selectors
from processing.jobs.models import Batch
from processing.ops.cli.common import bar, find, table


def add_status_arguments(parser) -> None:
    parser.add_argument("id", help="a job id or a batch id")


def status(command, options) -> None:
    found = find(options["id"])
    if isinstance(found, Batch):
        progress = selectors.batch_progress(batch=found)
        fields = {
            "batch": found.pk,
            "vendor": found.vendor.slug,
            "kind": found.kind,
            "progress": bar(progress["percent"]),
            **{state: progress[state] for state in ("total", "queued", "running", "succeeded", "failed", "cancelled")},
            "created": found.created_at.isoformat(),
            "finished": found.finished_at.isoformat() if found.finished_at else "-",
        }
    else:
        fields = {
            "job": found.pk,
            "vendor": found.vendor.slug,
            "kind": found.kind,
            "state": found.state,
            "priority": found.priority_label,
            "progress": f"{bar(found.progress_percent)} {found.progress_stage} {found.progress_message}".rstrip(),
            "attempts": f"{found.attempts} of {found.max_attempts}",
            "batch": found.batch_id or "-",
            "created": found.created_at.isoformat(),
            "finished": found.finished_at.isoformat() if found.finished_at else "-",
        }
        if found.error_code:
            fields["error"] = f"{found.error_code}: {found.error_message}"
        if found.result:
            fields["result"] = found.result.get("name", "")
    for name, value in fields.items():
        command.stdout.write(f"{name + ':':<10} {value}")


def add_list_arguments(parser) -> None:
    parser.add_argument("--vendor", help="vendor slug")
    parser.add_argument("--state", choices=["queued", "running", "succeeded", "failed", "cancelled"])
    parser.add_argument("--kind")
    parser.add_argument("--limit", type=int, default=20, help="newest first (default 20)")


def job_list(command, options) -> None:
    jobs = selectors.ops_job_list(vendor_slug=options["vendor"], state=options["state"], kind=options["kind"])
    rows = [
        [job.pk, job.vendor.slug, job.kind, job.state, f"{job.progress_percent}%", job.created_at.strftime("%F %T")]
        for job in jobs[: max(0, options["limit"])]
    ]
    command.stdout.write(table(["id", "vendor", "kind", "state", "progress", "created"], rows))


def stats(command, options) -> None:
    columns = ["waiting", "delayed", "dispatched", "active", "completed", "failed", "cancelled", "total"]
    rows = [[kind, *[row[c] for c in columns]] for kind, row in sorted(selectors.queue_stats().items())]
    command.stdout.write(table(["kind", *columns], rows))
