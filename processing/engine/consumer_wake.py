"""Idle Dramatiq consumers woken when admission sends messages, instead of only polling.

Dramatiq's Redis consumer, finding its queue empty, sleeps up to the worker timeout (100 ms here)
before it looks again: a job admitted to an idle worker waited half of that on average, most
of what a job's start took after its POST. Admission publishes on SENT_CHANNEL after it sends
(admission.py); every worker's wake-up listener (maintenance.py) hears it and ends its
consumers' sleeps, and each looks at once. Polling stays as it was for anything else."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import dramatiq.brokers.redis as redis_broker

SENT_CHANNEL = "darkroom:dispatch:sent"


class _Wake:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._generation = 0

    def sleep(self, seconds: float) -> None:
        """time.sleep, ended early by wake()."""
        with self._changed:
            seen = self._generation
            self._changed.wait_for(lambda: self._generation != seen, timeout=seconds)

    def wake(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()


_wake = _Wake()
wake = _wake.wake


def install() -> None:
    """Route the Redis broker module's sleeps through the wake (in a worker process)."""
    redis_broker.time = SimpleNamespace(monotonic=time.monotonic, sleep=_wake.sleep)  # type: ignore[assignment]
