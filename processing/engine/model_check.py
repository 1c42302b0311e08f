"""Workers that serve background removal refuse to start without their model, or on an
execution provider they cannot run on, with a message that says how to fix it, instead of
failing every job, downloading at job time or quietly running on the CPU."""

from __future__ import annotations

import logging
import os
import sys

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)
EXIT_MODEL_MISSING = 3
EXIT_PROVIDER_UNAVAILABLE = 4


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
        if settings.REMBG_BACKEND == "local":
            _start_default_session()


def _start_default_session() -> None:
    """Builds REMBG_MODEL's session now: the first job does not wait for it, and the worker
    knows (and reports) the provider it really runs on before it takes any work."""
    from processing.jobs.kinds.remove_bg import local_session
    from processing.lib.errors import ProviderUnavailable
    from processing.lib.rembg.runtime import running_provider

    try:
        session = local_session()
    except ProviderUnavailable as exc:
        logger.critical("REMBG_PROVIDERS=%s cannot run here: %s", ",".join(settings.REMBG_PROVIDERS), exc.message)
        sys.exit(EXIT_PROVIDER_UNAVAILABLE)
    logger.info("rembg model %s runs on %s", settings.REMBG_MODEL, running_provider(session))
    if not settings.ONNX_CPU_MEM_ARENA and "jemalloc" not in os.environ.get("LD_PRELOAD", ""):
        # Without the arena, glibc keeps the freed inference buffers in fragmented arenas
        # (docs/benchmarks.md, "Worker memory").
        logger.warning(
            "jemalloc is not preloaded: this worker's memory will grow well past what it needs; "
            "start it with LD_PRELOAD=<path to libjemalloc.so.2> (the Docker image does)"
        )
