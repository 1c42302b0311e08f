"""Leases on running jobs, held by the worker process rather than by the job's code.

Each worker process runs one renewal thread (the `LeaseRenewal` middleware) that extends, in one
UPDATE every JOB_LEASE_RENEW_S, the lease of every job its threads are running: a step may take
as long as it needs (a slow endpoint, a large model on CPU) without reporting progress, and only
a worker that died or froze lets its jobs' leases run out, after which the sweep takes them back.

The same thread keeps this worker's Dramatiq heartbeat fresh, so a busy worker (its consumers
idle at full prefetch send nothing) still counts as alive for the lost-message check
(engine/lost_messages.py) and for Dramatiq's own requeue of dead workers' messages.
"""

from __future__ import annotations

import logging
import threading
import uuid

import dramatiq
from django.conf import settings
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

logger = logging.getLogger(__name__)

_held: dict[uuid.UUID, uuid.UUID] = {}
_lock = threading.Lock()


def hold(job_id: uuid.UUID, run_token: uuid.UUID) -> None:
    """This process runs the job: its lease is renewed until `release`."""
    with _lock:
        _held[job_id] = run_token


def release(job_id: uuid.UUID) -> None:
    with _lock:
        _held.pop(job_id, None)


def held() -> dict[uuid.UUID, uuid.UUID]:
    with _lock:
        return dict(_held)


def renew_interval_s() -> float:
    return max(0.05, min(settings.JOB_LEASE_RENEW_S, settings.JOB_LEASE_S / 3))


def renew_now() -> int:
    """Renew every lease this process holds; how many it still holds."""
    from processing.jobs.services import jobs_renew_leases

    return jobs_renew_leases(held=held())


def beat_broker_heartbeat(broker) -> None:
    """What Dramatiq's Redis scripts do at each command: mark this worker alive."""
    if isinstance(broker, RedisBroker):
        broker.client.zadd(f"{broker.namespace}:__heartbeats__", {broker.broker_id: current_millis()})


class LeaseRenewal(dramatiq.Middleware):
    def __init__(self) -> None:
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
        threading.Thread(target=self._loop, args=(broker,), name="darkroom-leases", daemon=True).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _loop(self, broker) -> None:
        from django.db import close_old_connections, connection

        from processing.lib.redis import OutageNotice

        outage = OutageNotice(logger, "Dramatiq heartbeat")
        while not self._stop.wait(renew_interval_s()):
            try:
                renew_now()
            except Exception:
                # The database is away: the leases run for JOB_LEASE_S, several renewals long.
                logger.warning("could not renew the leases of this worker's jobs", exc_info=True)
                connection.close()  # a fresh connection next time
            else:
                close_old_connections()
            try:
                beat_broker_heartbeat(broker)
                outage.ok()
            except Exception as exc:
                if not outage.failed(exc):
                    logger.warning("could not beat this worker's Dramatiq heartbeat", exc_info=True)
