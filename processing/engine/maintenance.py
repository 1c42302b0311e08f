"""A Dramatiq middleware that keeps admission moving inside every worker process."""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)


class Maintenance(dramatiq.Middleware):
    """Each tick admits jobs whose retry delay has passed and takes back jobs whose lease ran
    out; every LOST_MESSAGE_CHECK_S it hands over again jobs whose message the broker lost.
    Every worker runs it; the dispatcher's lock and the compare-and-sets make concurrent ticks
    harmless."""

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

        from processing.engine.admission import dispatch_marked, dispatch_pending
        from processing.engine.lost_messages import requeue_lost_messages
        from processing.jobs.services import jobs_recover_stalled
        from processing.jobs.wakeup import WAKE_CHANNEL
        from processing.lib.redis import get_redis

        wake = None
        next_sweep = next_lost_check = 0.0
        while not self._stop.is_set():
            try:
                if wake is None:
                    wake = get_redis().pubsub(ignore_subscribe_messages=True)
                    wake.subscribe(WAKE_CHANNEL)
                # Woken at once by a web request that created jobs, else once a tick.
                if wake.get_message(timeout=settings.DISPATCH_TICK_S):
                    while wake.get_message(timeout=0):
                        pass  # wake-ups that came meanwhile: one pass serves them all
                    dispatch_marked()  # only the kinds marked
                if time.monotonic() >= next_sweep:
                    # Also admits retries whose backoff has passed and jobs of resumed vendors.
                    jobs_recover_stalled()
                    if time.monotonic() >= next_lost_check:
                        next_lost_check = time.monotonic() + settings.LOST_MESSAGE_CHECK_S
                        requeue_lost_messages()
                    dispatch_pending()
                    next_sweep = time.monotonic() + settings.DISPATCH_TICK_S
            except Exception:
                logger.exception("maintenance tick failed")
                wake = None
                self._stop.wait(settings.DISPATCH_TICK_S)
            finally:
                close_old_connections()
