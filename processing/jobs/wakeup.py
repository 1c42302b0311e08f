"""How the jobs core asks the engine to admit waiting jobs, without knowing the engine: a mark
per kind in a Redis set and a wake-up on a channel that every worker's maintenance thread hears."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from processing.jobs.kinds import PROCESSORS
from processing.lib.redis import get_redis, traceback_unless_away

logger = logging.getLogger(__name__)

DIRTY_KEY = "darkroom:dispatch:dirty"
WAKE_CHANNEL = "darkroom:dispatch:wake"


def mark_kinds(kinds: Iterable[str] | None = None) -> None:
    """Mark kinds (all when None) as having jobs that may be admitted."""
    get_redis().sadd(DIRTY_KEY, *(list(kinds) if kinds else list(PROCESSORS)))


def request_admission(*, kinds: Iterable[str] | None = None) -> None:
    """Ask the workers to admit jobs: what a service calls after it commits new jobs. It costs
    one Redis round trip; a worker's maintenance thread does the admitting. Never raises: a job
    whose wake-up is lost is admitted on a worker's next tick."""
    try:
        mark_kinds(kinds)
        get_redis().publish(WAKE_CHANNEL, "1")
    except Exception as exc:
        logger.warning(
            "could not wake the dispatcher (%r); the next tick will admit the job",
            exc,
            exc_info=traceback_unless_away(exc),
        )
