"""darkroom monitor ID: a live progress bar until the job or batch ends."""

from __future__ import annotations

import time

from processing.jobs import selectors
from processing.jobs.models import Batch
from processing.jobs.states import FINISHED, JobState
from processing.ops.cli.common import bar, fail, find


def add_arguments(parser) -> None:
    parser.add_argument("id", help="a job id or a batch id")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between refreshes")


def _job_line(job) -> tuple[str, bool, bool]:
    """(line, finished, succeeded)"""
    line = f"{bar(job.progress_percent)} {job.state:<9} {job.progress_stage} {job.progress_message}".rstrip()
    if job.state == JobState.FAILED:
        line += f" — {job.error_code}: {job.error_message}"
    return line, job.state in FINISHED, job.state == JobState.SUCCEEDED


def _batch_line(batch: Batch) -> tuple[str, bool, bool]:
    progress = selectors.batch_progress(batch=batch)
    counts = " ".join(
        f"{state} {progress[state]}" for state in ("queued", "running", "succeeded", "failed", "cancelled")
    )
    eta = f" eta {progress['eta_s']:.0f} s" if progress["eta_s"] else ""
    finished = progress["queued"] + progress["running"] == 0
    return f"{bar(progress['percent'])} {counts}{eta}", finished, progress["failed"] + progress["cancelled"] == 0


def handle(command, options) -> None:
    found = find(options["id"])
    is_batch = isinstance(found, Batch)
    live = command.stdout.isatty()
    last = ""
    while True:
        found.refresh_from_db()
        line, finished, succeeded = _batch_line(found) if is_batch else _job_line(found)
        if line != last:
            if live:  # redraw one line in place
                command.stdout.write(f"\r\033[K{line}", ending="")
                command.stdout.flush()
            else:
                command.stdout.write(line)
            last = line
        if finished:
            break
        time.sleep(options["interval"])
    if live:
        command.stdout.write("")
    if not succeeded:
        what = "batch" if is_batch else "job"
        raise fail(f"{what} {found.pk} did not succeed")
