"""Turns between tenants, for admission passes (jobs: `processing/engine/admission.py`; webhook
deliveries: `processing/webhooks/admission.py`): the tenant served longest ago goes first (one
never served before all), one item per turn, within each tenant's room and the pass's free
slots. The order is kept in Redis, in a hash of tenant -> sequence number, so it holds across
passes and processes; the caller stamps the tenants it served while it still holds its lock."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

from redis import Redis

T = TypeVar("T")

# Stamp the tenants served in a pass, in order, with fresh sequence numbers: one round trip.
_MARK_SERVED = """
local base = redis.call('INCRBY', KEYS[2], #ARGV) - #ARGV
for i, tenant in ipairs(ARGV) do redis.call('HSET', KEYS[1], tenant, base + i) end
return base
"""


def take_turns(
    r: Redis,
    *,
    served_key: str,
    room: dict[int, int],
    free: int,
    next_items: Callable[[int, int], Iterable[T]],
    field: Callable[[int], int | str] = lambda tenant: tenant,
) -> list[tuple[int, T]]:
    """(tenant, item) in the order they are handed out: at most `free` in all and `room[tenant]`
    each. `next_items(tenant, n)` gives a tenant's next n items in its own order; it is asked
    once per tenant, on its first turn. `field(tenant)` names the tenant in the Redis hash (the
    tenant itself unless said); ties go to the lower tenant."""
    eligible = [tenant for tenant, n in room.items() if n > 0]
    if free <= 0 or not eligible:
        return []
    served = dict(zip(eligible, r.hmget(served_key, [field(tenant) for tenant in eligible]), strict=True))
    turn = deque(sorted(eligible, key=lambda t: (int(served[t] or 0), t)))
    room = dict(room)
    candidates: dict[int, deque[T]] = {}
    chosen: list[tuple[int, T]] = []
    while free > 0 and turn:
        tenant = turn.popleft()
        if tenant not in candidates:  # the tenant's first turn: its next items, in order
            candidates[tenant] = deque(next_items(tenant, min(room[tenant], free)))
        if not candidates[tenant] or room[tenant] <= 0:
            continue
        chosen.append((tenant, candidates[tenant].popleft()))
        room[tenant] -= 1
        free -= 1
        turn.append(tenant)
    return chosen


def mark_served(r: Redis, *, served_key: str, seq_key: str, tenants: list[int] | list[str]) -> None:
    """Record that `tenants` were served, in this order, after everyone served before."""
    if tenants:
        r.eval(_MARK_SERVED, 2, served_key, seq_key, *tenants)
