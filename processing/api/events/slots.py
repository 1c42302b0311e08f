"""At most EVENTS_MAX_STREAMS_PER_VENDOR open event streams per vendor, across web processes.

Each open stream holds a lease in a Redis sorted set (member: the stream's id, score: when the
lease runs out). A lease lasts a stream's longest life plus a margin, so a web process that
dies without closing its streams frees their slots by itself."""

from __future__ import annotations

import time
import uuid

from django.conf import settings

from processing.lib.redis import get_redis

KEY_PREFIX = "darkroom:streams"
_LEASE_MARGIN_S = 60

# KEYS[1]: the vendor's set. ARGV: now, lease end, cap, stream id. 1 if taken, 0 if full.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2] - ARGV[1]) + 1)
return 1
"""


def _key(vendor_uid: str) -> str:
    return f"{KEY_PREFIX}:{vendor_uid}"  # Vendor.uid: a reused id finds no slots taken


def stream_slot_take(*, vendor_uid: str) -> str | None:
    """A slot for one more stream of the vendor (its id), or None when all are taken."""
    stream_id = uuid.uuid4().hex
    now = time.time()
    lease_end = now + settings.EVENTS_MAX_STREAM_S + _LEASE_MARGIN_S
    taken = get_redis().eval(
        _TAKE, 1, _key(vendor_uid), now, lease_end, settings.EVENTS_MAX_STREAMS_PER_VENDOR, stream_id
    )
    return stream_id if taken else None


def stream_slot_release(*, vendor_uid: str, stream_id: str) -> None:
    get_redis().zrem(_key(vendor_uid), stream_id)


def stream_slots_delete(sender=None, *, vendor_uid: str, **kwargs) -> list[str]:
    """Drop the vendor's stream leases (when it is offboarded; a receiver of vendor_offboarded)."""
    return [_key(vendor_uid)] if get_redis().delete(_key(vendor_uid)) else []
