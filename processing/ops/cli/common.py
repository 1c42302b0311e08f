"""What the subcommands share: exit codes, finding a job or batch by id, and formatting."""

from __future__ import annotations

from django.core.management.base import CommandError

from processing.jobs import selectors
from processing.jobs.models import Batch, Job

EXIT_FAILED = 1  # the job failed, was not found, or the change was refused
EXIT_USAGE = 2  # what argparse uses for bad arguments


def fail(message: str, code: int = EXIT_FAILED) -> CommandError:
    return CommandError(message, returncode=code)


def find(identifier: str) -> Job | Batch:
    """The job, else the batch, with this id; any vendor's (operators see them all)."""
    found = selectors.ops_job_get(job_id=identifier) or selectors.ops_batch_get(batch_id=identifier)
    if found is None:
        raise fail(f"no job or batch {identifier}")
    return found


def bar(percent: float, width: int = 30) -> str:
    filled = round(width * max(0.0, min(100.0, percent)) / 100)
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}%"


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers, *[[str(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(value.ljust(w) for value, w in zip(row, widths, strict=True)).rstrip() for row in cells)
