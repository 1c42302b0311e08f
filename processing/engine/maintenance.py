"""A Dramatiq middleware that keeps admission moving inside every worker process."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

import dramatiq
from django.conf import settings

from processing.engine import consumer_wake
from processing.jobs import events
from processing.jobs.kinds import queue_capacity
from processing.jobs.wakeup import request_admission

logger = logging.getLogger(__name__)

# A pass for jobs that finished here waits at most this long for more of them to finish.
GATHER_MAX_S = 0.05


class Wakes:
    """What this process's maintenance thread is asked to do: admit at once for a wake-up from
    outside (a web request created jobs), or for jobs that finished in this process, once
    enough of a kind have finished. A pass costs about what a short job does, so one per finished
    job would halve a drain; freed slots are gathered while the kind's messages already in the
    broker keep the threads busy: half the slots the threads are not using, or GATHER_MAX_S."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._ready = threading.Condition()
        self._outside = False
        self._finished: Counter[str] = Counter()
        self._first_finish: float | None = None

    def outside(self) -> None:
        with self._ready:
            self._outside = True
            self._ready.notify()

    def finished(self, kind: str) -> None:
        with self._ready:
            self._finished[kind] += 1
            if self._first_finish is None:
                self._first_finish = time.monotonic()
            if self._due():
                self._ready.notify()

    def wait(self, timeout: float) -> tuple[bool, set[str]]:
        """(woken from outside, kinds with finished jobs) once either is due, or after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while not self._due():
                now = time.monotonic()
                until = deadline if self._first_finish is None else min(deadline, self._first_finish + GATHER_MAX_S)
                if until <= now:
                    break
                self._ready.wait(until - now)
            outside, kinds = self._outside, set(self._finished)
            self._outside, self._first_finish = False, None
            self._finished.clear()
            return outside, kinds

    def _due(self) -> bool:
        """Woken from outside, or half the slots the threads leave of a kind came free."""
        return self._outside or any(
            n >= max(1, (queue_capacity(kind) - self._threads) // 2) for kind, n in self._finished.items()
        )


_wakes: Wakes | None = None  # this process's, when a maintenance thread runs here


def admit_after_finish(kind: str) -> None:
    """A job of `kind` finished in this process: its slot may go to a waiting job."""
    if _wakes is not None:
        _wakes.finished(kind)
    else:  # no maintenance thread here (a job run in-process): ask the workers'
        request_admission(kinds=[kind])


class Maintenance(dramatiq.Middleware):
    """Each tick admits jobs whose retry delay has passed and takes back jobs whose lease ran
    out; every LOST_MESSAGE_CHECK_S it hands over again jobs whose message the broker lost.
    Every worker runs it; the dispatcher's lock and the compare-and-sets make concurrent ticks
    harmless."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def after_worker_boot(self, broker, worker) -> None:
        global _wakes
        _wakes = Wakes(threads=worker.worker_threads)
        consumer_wake.install()
        for target, name in ((self._listen, "darkroom-wakes"), (self._loop, "darkroom-maintenance")):
            thread = threading.Thread(target=target, args=(_wakes,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _listen(self, wakes: Wakes) -> None:
        """Wake-ups over Redis pub/sub: jobs to admit (from a web request), messages sent (from
        any process's admission)."""
        from processing.jobs.wakeup import WAKE_CHANNEL
        from processing.lib.redis import OutageNotice, get_redis

        outage = OutageNotice(logger, "maintenance: wake-ups (the ticks admit meanwhile)")
        while not self._stop.is_set():
            try:
                wake = get_redis().pubsub(ignore_subscribe_messages=True)
                wake.subscribe(WAKE_CHANNEL, consumer_wake.SENT_CHANNEL, events.LISTENERS_CHANNEL)
                events.listeners_heard(hearing=True)
                outage.ok()
                while not self._stop.is_set():
                    if message := wake.get_message(timeout=1.0):
                        if message["channel"] == consumer_wake.SENT_CHANNEL.encode():
                            consumer_wake.wake()  # messages were sent: idle consumers look now
                        elif message["channel"] == events.LISTENERS_CHANNEL.encode():
                            events.listeners_heard(hearing=True)  # a vendor's first stream opened
                        else:
                            wakes.outside()
            except Exception as exc:
                events.listeners_heard(hearing=False)
                if not outage.failed(exc):
                    logger.warning(
                        "maintenance: could not listen for wake-ups; the ticks admit meanwhile", exc_info=True
                    )
                self._stop.wait(settings.DISPATCH_TICK_S)

    def _loop(self, wakes: Wakes) -> None:
        from django.db import close_old_connections

        from processing.engine.admission import dispatch_marked, dispatch_pending
        from processing.engine.lost_messages import requeue_lost_messages
        from processing.jobs.services import jobs_recover_stalled
        from processing.jobs.wakeup import mark_kinds
        from processing.lib.redis import OutageNotice

        next_sweep = next_lost_check = 0.0
        outage = OutageNotice(logger, "maintenance tick")
        while not self._stop.is_set():
            try:
                outside, kinds = wakes.wait(max(0.0, next_sweep - time.monotonic()))
                if kinds:
                    mark_kinds(kinds)
                if outside or kinds:
                    dispatch_marked()  # only the kinds marked: one pass serves every wake-up since the last
                if time.monotonic() >= next_sweep:
                    # Also admits retries whose backoff has passed and jobs of resumed vendors.
                    jobs_recover_stalled()
                    if time.monotonic() >= next_lost_check:
                        next_lost_check = time.monotonic() + settings.LOST_MESSAGE_CHECK_S
                        requeue_lost_messages()
                    dispatch_pending()
                    next_sweep = time.monotonic() + settings.DISPATCH_TICK_S
                outage.ok()
            except Exception as exc:
                if not outage.failed(exc):
                    logger.exception("maintenance tick failed")
                self._stop.wait(settings.DISPATCH_TICK_S)
            finally:
                close_old_connections()
