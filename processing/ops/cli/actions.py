"""darkroom cancel ID, retry ID, cleanup, health: changes through the services."""

from __future__ import annotations

from processing.jobs import services
from processing.jobs.models import Batch
from processing.jobs.services import jobs_purge_finished
from processing.jobs.states import InvalidTransition
from processing.ops.cli.common import fail, find
from processing.ops.health import dependency_problems


def add_id_argument(parser) -> None:
    parser.add_argument("id", help="a job id (cancel also takes a batch id)")


def cancel(command, options) -> None:
    found = find(options["id"])
    if isinstance(found, Batch):
        command.stdout.write(f"cancelled {services.batch_cancel(batch=found)} jobs of batch {found.pk}")
        return
    try:
        cancelled = services.job_cancel(job=found)
    except InvalidTransition as exc:
        raise fail(f"job {found.pk}: {exc}") from None
    if not cancelled:
        raise fail(f"job {found.pk} finished before it could be cancelled")
    command.stdout.write(f"cancelled job {found.pk}")


def retry(command, options) -> None:
    found = find(options["id"])
    if isinstance(found, Batch):
        raise fail("retry takes a job id, not a batch id")
    try:
        retried = services.job_retry(job=found)
    except InvalidTransition as exc:
        raise fail(f"job {found.pk}: {exc}") from None
    if not retried:
        raise fail(f"job {found.pk} changed meanwhile; nothing retried")
    command.stdout.write(f"queued job {found.pk} again")


def cleanup(command, options) -> None:
    report = jobs_purge_finished()
    command.stdout.write(
        f"removed {report.jobs} jobs, {report.records} records past their retention and {report.files} files"
    )


def health(command, options) -> None:
    problems = dependency_problems()
    if problems:
        raise fail(f"not answering: {', '.join(problems)}")
    command.stdout.write("ok: database and redis answer")
