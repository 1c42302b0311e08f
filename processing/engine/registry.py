"""The worker registry: every worker process writes a heartbeat record to Redis every few
seconds, so operators see each worker (host, pid, queues, threads, jobs in hand) and notice
one that fell silent. Records outlive the lost threshold, so a dead worker stays on show as
lost for a while (WORKER_RECORD_TTL_S) before it leaves the list."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from typing import Any

import dramatiq
from django.conf import settings
from dramatiq.common import q_name

from processing.lib.redis import OutageNotice, get_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "darkroom:workers:"


def worker_key(host: str, pid: int) -> str:
    return f"{KEY_PREFIX}{host}:{pid}"


def read_heartbeats() -> list[dict[str, Any]]:
    """Every heartbeat record still in Redis, as written by the workers."""
    r = get_redis()
    keys = sorted(r.scan_iter(match=f"{KEY_PREFIX}*", count=500))
    records = []
    for raw in r.mget(keys) if keys else []:
        if raw:  # expired between SCAN and MGET
            records.append(json.loads(raw))
    return records


class WorkerRegistry(dramatiq.Middleware):
    """Runs in each worker process: counts the messages in hand and beats every
    WORKER_HEARTBEAT_S seconds until the worker shuts down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_hand: set[str] = set()
        self._stop = threading.Event()
        self._worker: dramatiq.Worker | None = None
        self._started_at = 0.0
        self._host = socket.gethostname()

    def after_worker_boot(self, broker, worker) -> None:
        self._worker = worker
        self._started_at = time.time()
        self._beat()
        threading.Thread(target=self._loop, name="darkroom-worker-registry", daemon=True).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()
        # A worker that stops cleanly is not lost: it simply leaves the registry.
        try:
            get_redis().delete(worker_key(self._host, os.getpid()))
        except Exception:
            logger.warning("could not remove this worker's heartbeat record", exc_info=True)

    def before_process_message(self, broker, message) -> None:
        with self._lock:
            self._in_hand.add(message.message_id)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        self._release(message)

    def after_skip_message(self, broker, message) -> None:
        self._release(message)

    def _release(self, message) -> None:
        with self._lock:
            self._in_hand.discard(message.message_id)

    def _queues(self) -> list[str]:
        # Consumers are keyed by queue, delay queues included ("x.DQ"); queues declared late
        # get a consumer late, so this is read at every beat.
        consumers = list(self._worker.consumers) if self._worker else []
        return sorted({q_name(name) for name in consumers})

    def record(self) -> dict[str, Any]:
        with self._lock:
            in_hand = len(self._in_hand)
        return {
            "host": self._host,
            "pid": os.getpid(),
            "queues": self._queues(),
            "threads": self._worker.worker_threads if self._worker else 0,
            "jobs_in_hand": in_hand,
            "providers": _providers_in_use(),
            "started_at": self._started_at,
            "heartbeat_at": time.time(),
        }

    def _beat(self) -> None:
        record = self.record()
        get_redis().set(worker_key(record["host"], record["pid"]), json.dumps(record), ex=settings.WORKER_RECORD_TTL_S)

    def _loop(self) -> None:
        outage = OutageNotice(logger, "worker heartbeat")
        while not self._stop.wait(settings.WORKER_HEARTBEAT_S):
            try:
                self._beat()
                outage.ok()
            except Exception as exc:
                if not outage.failed(exc):
                    logger.warning("worker heartbeat failed", exc_info=True)


def _providers_in_use() -> list[str]:
    """Where this worker's rembg sessions really run (CPUExecutionProvider, CUDAExecutionProvider…);
    empty before its first session, and in workers that never load rembg."""
    sessions = sys.modules.get("processing.lib.rembg.sessions")
    return sessions.providers_in_use() if sessions else []


def worker_list(*, lost_after_s: float | None = None) -> list[dict]:
    """Every worker process seen within WORKER_RECORD_TTL_S, live ones first, each with `lost`
    set when it has been silent for longer than the threshold. A lost worker's jobs are not in
    its hands any more (their leases hand them back), so it shows none; the count it last
    reported stays as `jobs_held_when_lost`."""
    threshold = settings.WORKER_LOST_AFTER_S if lost_after_s is None else lost_after_s
    now = time.time()
    workers = []
    for record in read_heartbeats():
        silent_s = max(0.0, now - record["heartbeat_at"])
        if silent_s > settings.WORKER_RECORD_TTL_S:
            # A record written with a longer expiry by an older release: gone all the same.
            continue
        lost = silent_s > threshold
        worker = {**record, "silent_s": round(silent_s, 1), "lost": lost}
        if lost:
            worker["jobs_held_when_lost"] = record["jobs_in_hand"]
            worker["jobs_in_hand"] = 0
        workers.append(worker)
    return sorted(workers, key=lambda w: (w["lost"], w["host"], w["pid"]))
