"""A Dramatiq middleware that keeps admission moving inside every worker process."""

from __future__ import annotations

import logging
import threading

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)


class Maintenance(dramatiq.Middleware):
    """Each tick admits jobs whose retry delay has passed and takes back stalled ones.
    Every worker runs it; the dispatcher's lock makes concurrent ticks harmless."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker) -> None:
        self._thread = threading.Thread(target=self._loop, name="darkroom-maintenance", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _loop(self) -> None:
        from django.db import close_old_connections

        from .dispatch import dispatch_pending
        from .recovery import jobs_recover_stalled

        while not self._stop.wait(settings.DISPATCH_TICK_S):
            try:
                jobs_recover_stalled()
                dispatch_pending()
            except Exception:
                logger.exception("maintenance tick failed")
            finally:
                close_old_connections()
