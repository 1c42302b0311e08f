"""A circuit breaker shared by every worker through Redis.

After `threshold` failures in a row (within `window_s`), the circuit opens for `open_s`: calls are
refused at once, without touching the far side, so a broken endpoint is not hammered by every
worker thread. When it has been open long enough, calls go through again; the first failure
re-opens it, the first success closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from processing.lib.errors import TemporaryError
from processing.lib.redis import get_redis

_PREFIX = "darkroom:circuit:"


@dataclass(frozen=True)
class CircuitBreaker:
    name: str
    threshold: int = 5
    open_s: float = 30.0
    window_s: float = 120.0

    @property
    def _open_key(self) -> str:
        return f"{_PREFIX}{self.name}:open"

    @property
    def _failures_key(self) -> str:
        return f"{_PREFIX}{self.name}:failures"

    def open_for_s(self) -> float:
        """Seconds the circuit stays open; 0 when calls may go through."""
        remaining_ms = get_redis().pttl(self._open_key)
        return remaining_ms / 1000 if remaining_ms and remaining_ms > 0 else 0.0

    def check(self) -> None:
        """Raise TemporaryError (code circuit_open) while the circuit is open."""
        remaining = self.open_for_s()
        if remaining:
            raise TemporaryError(
                f"{self.name} failed repeatedly; not calling it for another {remaining:.0f} s",
                code="circuit_open",
                retry_after_s=remaining,
            )

    def record_success(self) -> None:
        get_redis().delete(self._failures_key, self._open_key)

    def record_failure(self) -> bool:
        """Count a failure; returns whether this one opened the circuit."""
        redis = get_redis()
        with redis.pipeline() as pipe:
            pipe.incr(self._failures_key)
            pipe.pexpire(self._failures_key, int(self.window_s * 1000))
            failures, _ = pipe.execute()
        if failures < self.threshold:
            return False
        redis.set(self._open_key, "1", px=int(self.open_s * 1000))
        # Half-open after open_s: the next failure re-opens at once.
        redis.set(self._failures_key, self.threshold - 1, px=int(self.window_s * 1000))
        return True
