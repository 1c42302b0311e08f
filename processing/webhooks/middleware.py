"""A Dramatiq middleware that keeps webhook admission moving inside the workers that deliver."""

from __future__ import annotations

import logging
import threading

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)


class DeliveryTicks(dramatiq.Middleware):
    """In a worker that serves the webhooks queue, an admission pass every DISPATCH_TICK_S: it
    hands out retries whose backoff has passed, deliveries whose message was lost, and any
    delivery a pass missed. Admission also runs when deliveries are queued and after each
    attempt; its lock makes concurrent passes harmless."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
        from processing.webhooks.admission import QUEUE_NAME

        if worker.consumer_whitelist and QUEUE_NAME not in worker.consumer_whitelist:
            return  # a worker of other queues only
        threading.Thread(target=self._loop, name="darkroom-webhook-ticks", daemon=True).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _loop(self) -> None:
        from django.db import close_old_connections

        from processing.lib.redis import OutageNotice
        from processing.webhooks.admission import deliveries_dispatch

        outage = OutageNotice(logger, "webhook admission tick")
        while not self._stop.wait(settings.DISPATCH_TICK_S):
            try:
                deliveries_dispatch()
                outage.ok()
            except Exception as exc:
                if not outage.failed(exc):
                    logger.exception("webhook admission tick failed")
            finally:
                close_old_connections()
