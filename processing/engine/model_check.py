"""Workers that serve background removal refuse to start without their model, with a message
that says how to fix it, instead of failing every job or downloading at job time."""

from __future__ import annotations

import logging
import sys

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)
EXIT_MODEL_MISSING = 3


def missing_models() -> list[str]:
    from processing.lib.rembg.sessions import model_file_path

    if settings.REMBG_BACKEND != "local":
        return []
    wanted = dict.fromkeys([settings.REMBG_MODEL, *settings.REMBG_ALLOWED_MODELS])
    return [name for name in wanted if not model_file_path(name, settings.REMBG_HOME).is_file()]


class ModelCheck(dramatiq.Middleware):
    def before_worker_boot(self, broker, worker) -> None:
        from processing.jobs.kinds import PROCESSORS

        queue = PROCESSORS["remove_bg"].queue if "remove_bg" in PROCESSORS else None
        consumes = worker.consumer_whitelist  # None or empty: every queue
        if queue is None or (consumes and queue not in consumes):
            return
        missing = missing_models()
        if missing:
            logger.critical(
                "rembg model(s) %s missing from REMBG_HOME=%s: run `python manage.py fetch_models` "
                "before starting a worker for the %s queue",
                ", ".join(missing),
                settings.REMBG_HOME,
                queue,
            )
            sys.exit(EXIT_MODEL_MISSING)
