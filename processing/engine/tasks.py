"""Dramatiq actors: one per kind, each on its own queue. They take a job id and nothing else;
the row says what to do, so a message delivered twice does no harm."""

from __future__ import annotations

import dramatiq
from django.conf import settings
from periodiq import cron

from processing.engine.deletions import delete_project  # noqa: F401  (declares its actors)
from processing.engine.exports import build_export  # noqa: F401  (declares its actor)
from processing.engine.messages import actor_name
from processing.engine.offboarding import offboard_vendor  # noqa: F401  (declares its actor)
from processing.engine.runner import job_run
from processing.engine.thumbnails import make_record_thumbnail  # noqa: F401  (declares its queue)
from processing.jobs.kinds import PROCESSORS
from processing.jobs.services import jobs_purge_finished
from processing.jobs.usage import usage_sample_storage
from processing.lib.errors import ProcessingError


def _make_actor(kind: str, queue: str) -> dramatiq.Actor:
    def run_job(job_id: str, dispatch: int | None = None) -> None:
        job_run(job_id=job_id, kind=kind, dispatch=dispatch)

    run_job.__name__ = actor_name(kind)
    return dramatiq.actor(
        run_job,
        actor_name=actor_name(kind),
        queue_name=queue,
        # Darkroom retries failed attempts itself (with the row as the record); Dramatiq's
        # retries only cover an outage that keeps the job from being recorded at all.
        max_retries=3,
        min_backoff=1_000,
        max_backoff=60_000,
        time_limit=settings.JOB_TIME_LIMIT_S * 1000,
        throws=(ProcessingError,),
    )


ACTORS: dict[str, dramatiq.Actor] = {kind: _make_actor(kind, p.queue) for kind, p in PROCESSORS.items()}


def actor_for(kind: str) -> dramatiq.Actor:
    return ACTORS[kind]


@dramatiq.actor(
    queue_name="maintenance",
    periodic=cron(settings.JOB_RETENTION_CRON),
    max_retries=0,
    time_limit=30 * 60 * 1000,
    throws=(),
)
def purge_finished_jobs() -> None:
    jobs_purge_finished()


@dramatiq.actor(
    queue_name="maintenance",
    periodic=cron(settings.USAGE_STORAGE_SAMPLE_CRON),
    max_retries=0,
    time_limit=10 * 60 * 1000,
    throws=(),
)
def sample_storage() -> None:
    """Each vendor's stored bytes of the day into the usage ledger (StorageDay)."""
    usage_sample_storage()
