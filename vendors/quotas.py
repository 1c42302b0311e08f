"""Per-vendor request quotas (from the plan and its overrides), counted in Redis.

Each quota is a fixed window aligned to the epoch (a 1-hour window resets on the hour), so a
reset time is exact and the same in every process. A request may charge several quotas at once
(one image-processing request plus 40 background removals): one Lua script checks them all and
adds every charge only if all fit, so concurrent requests never admit more than a limit and a
bulk request that does not fit is refused whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django_ratelimit.core import _split_rate, get_usage

from processing.lib.errors import DarkroomError
from processing.lib.http.client_ip import client_address, trusted_proxies
from processing.lib.redis import get_redis
from vendors.models import Vendor
from vendors.selectors import vendor_limits

IMAGE_REQUESTS = "image_requests"
REMOVE_BG = "remove_bg"
BULK = "bulk"
READ_REQUESTS = "read_requests"
UPLOADS = "uploads"
AI_CALLS = "ai_calls"
AI_TOKENS = "ai_tokens"
QUOTAS = (IMAGE_REQUESTS, REMOVE_BG, BULK, READ_REQUESTS, UPLOADS, AI_CALLS, AI_TOKENS)
# Quotas whose amount is known only after the work (the tokens an AI call took): a request is
# charged nothing, but refused once the window's count has reached the limit; the work adds what
# it spent afterwards (quota_spend), so the job that reaches the limit may pass it by its own amount.
SPENT_AFTER = frozenset({AI_TOKENS})

DESCRIPTIONS = {
    IMAGE_REQUESTS: "image-processing requests",
    REMOVE_BG: "background removals",
    BULK: "bulk operations",
    READ_REQUESTS: "read requests",
    UPLOADS: "photos uploaded",
    AI_CALLS: "AI endpoint calls",
    AI_TOKENS: "AI tokens (input + output)",
    "anonymous_requests": "anonymous requests from one IP",
}

KEY_PREFIX = "darkroom:quota"

# A quota without a limit is still counted (so usage can be shown), against this ceiling.
NO_LIMIT = -1


@dataclass(frozen=True)
class QuotaUsage:
    name: str
    limit: int | None
    used: int
    remaining: int | None
    reset_at: datetime | None
    window_s: int

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.name, self.name)

    @property
    def reset_iso(self) -> str | None:
        """When the window resets, as the API says it (ISO 8601); None for a quota without one."""
        return self.reset_at.isoformat() if self.reset_at else None


class QuotaExceeded(DarkroomError):
    """A charge did not fit; nothing was counted. `usage` is the quota that refused it."""

    code = "rate_limited"
    status = 429

    def __init__(self, usage: QuotaUsage, requested: int):
        self.usage = usage
        self.requested = requested
        if usage.name in SPENT_AFTER:
            super().__init__(
                f"the budget of {usage.limit} {usage.description} per {_window_text(usage.window_s)} is spent "
                f"({usage.used} used); it resets at {usage.reset_iso or 'later'}"
            )
            return
        super().__init__(
            f"rate limit of {usage.limit} {usage.description} per {_window_text(usage.window_s)} reached "
            f"({usage.remaining} left, {requested} asked); it resets at {usage.reset_iso or 'later'}"
        )

    def problem_extensions(self) -> dict[str, Any]:
        return {"limit": self.usage.name, "reset_at": self.usage.reset_iso}

    def problem_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s), **rate_limit_headers(self.usage)}

    @property
    def retry_after_s(self) -> int:
        if self.usage.reset_at is None:
            return 1
        return max(1, int((self.usage.reset_at - datetime.now(UTC)).total_seconds() + 0.999))


class StorageQuotaExceeded(DarkroomError):
    """An upload would take the vendor's stored originals over its storage quota; nothing was
    stored. Not a window that resets: room comes back when records go, or with a larger plan."""

    code = "storage_quota_exceeded"
    status = 413

    def __init__(self, *, used: int, limit: int, requested: int):
        self.used, self.limit, self.requested = used, limit, requested
        super().__init__(
            f"storage quota of {limit} bytes reached ({max(0, limit - used)} left, {requested} asked); "
            "remove records or ask for a larger plan"
        )

    def problem_extensions(self) -> dict[str, Any]:
        return {"limit": "storage_bytes", "used": self.used, "limit_bytes": self.limit}


def _window_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} hours"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


# KEYS[i]: base key of quota i. ARGV: limit, window_s, amount, room for each quota (limit -1:
# none; room: what must be left for the charge to fit, the amount itself but for SPENT_AFTER
# quotas, which need 1). Returns {admitted(1|0), refused index (0 if admitted), then used and
# reset epoch per quota}. Redis runs a script alone, so the check and the additions are one step.
_CONSUME = """
local now = tonumber(redis.call('TIME')[1])
local keys, used, resets = {}, {}, {}
local refused = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[4 * i - 3])
  local window = tonumber(ARGV[4 * i - 2])
  local room = tonumber(ARGV[4 * i])
  local start = now - (now % window)
  keys[i] = KEYS[i] .. ':' .. start
  used[i] = tonumber(redis.call('GET', keys[i]) or '0')
  resets[i] = start + window
  if refused == 0 and limit >= 0 and used[i] + room > limit then refused = i end
end
if refused == 0 then
  for i = 1, #KEYS do
    local amount = tonumber(ARGV[4 * i - 1])
    if amount > 0 then
      used[i] = redis.call('INCRBY', keys[i], amount)
      redis.call('EXPIRE', keys[i], tonumber(ARGV[4 * i - 2]) + 60)
    end
  end
end
local out = {refused == 0 and 1 or 0, refused}
for i = 1, #KEYS do
  out[#out + 1] = used[i]
  out[#out + 1] = resets[i]
end
return out
"""


def _base_key(vendor: Vendor, name: str) -> str:
    return f"{KEY_PREFIX}:{vendor.uid.hex}:{name}"  # never a reused id (Vendor.uid)


def _limit_and_window(limits: Mapping[str, int | None], name: str) -> tuple[int | None, int]:
    return limits.get(f"{name}_limit"), int(limits.get(f"{name}_window_s") or 60)


def _run(vendor: Vendor, charges: Mapping[str, int]) -> tuple[bool, int, list[QuotaUsage]]:
    names = [name for name in charges if name in QUOTAS]
    limits = vendor_limits(vendor=vendor)
    argv: list[int] = []
    for name in names:
        limit, window = _limit_and_window(limits, name)
        amount = 0 if name in SPENT_AFTER else max(0, int(charges[name]))
        argv += [NO_LIMIT if limit is None else limit, window, amount, 1 if name in SPENT_AFTER else amount]
    reply = get_redis().eval(_CONSUME, len(names), *[_base_key(vendor, n) for n in names], *argv)
    admitted, refused = bool(reply[0]), int(reply[1])
    usages = []
    for index, name in enumerate(names):
        limit, window = _limit_and_window(limits, name)
        used, reset = int(reply[2 + 2 * index]), int(reply[3 + 2 * index])
        usages.append(
            QuotaUsage(
                name=name,
                limit=limit,
                used=used,
                remaining=None if limit is None else max(0, limit - used),
                reset_at=None if limit is None else datetime.fromtimestamp(reset, UTC),
                window_s=window,
            )
        )
    return admitted, refused, usages


def quota_consume(*, vendor: Vendor, charges: Mapping[str, int]) -> list[QuotaUsage]:
    """Count `charges` ({quota name: amount}) all at once, or none of them.

    Returns the usage of each charged quota after counting; raises QuotaExceeded (naming the
    first quota that did not fit) when any would go over its limit."""
    admitted, refused, usages = _run(vendor, charges)
    if not admitted:
        usage = usages[refused - 1]
        _count_refusal(usage.name, vendor.slug)
        raise QuotaExceeded(usage, requested=int(charges[usage.name]))
    return usages


# Refusals per "quota|vendor slug" since Redis started; /metrics reads them (processing/ops/metrics.py).
REFUSALS_KEY = f"{KEY_PREFIX}:refusals"


def _count_refusal(quota: str, vendor_slug: str) -> None:
    get_redis().hincrby(REFUSALS_KEY, f"{quota}|{vendor_slug}", 1)


def quota_refusals() -> dict[tuple[str, str], int]:
    """{(quota, vendor slug): refusals}; the vendor is "" for anonymous callers."""
    counts = get_redis().hgetall(REFUSALS_KEY)
    return {tuple(field.decode().split("|", 1)): int(n) for field, n in counts.items()}


def quota_spend(*, vendor: Vendor, name: str, amount: int) -> None:
    """Add what some work spent to a SPENT_AFTER quota's current window (the tokens a job's AI
    calls took), whatever its limit: the work is done. Later requests are refused once it is reached."""
    if amount <= 0:
        return
    _, window = _limit_and_window(vendor_limits(vendor=vendor), name)
    get_redis().eval(_SPEND, 1, _base_key(vendor, name), int(amount), window)


# KEYS[1]: the quota's base key; ARGV: amount, window_s. Redis's clock picks the window, as in _CONSUME.
_SPEND = """
local now = tonumber(redis.call('TIME')[1])
local window = tonumber(ARGV[2])
local key = KEYS[1] .. ':' .. (now - (now % window))
redis.call('INCRBY', key, ARGV[1])
redis.call('EXPIRE', key, window + 60)
return 1
"""


def quota_refund(*, vendor: Vendor, usages: list[QuotaUsage], charges: Mapping[str, int]) -> None:
    """Give back charges counted by quota_consume for a request that then failed."""
    client = get_redis()
    for usage in usages:
        amount = int(charges.get(usage.name, 0))
        if amount <= 0 or usage.reset_at is None:
            continue
        start = int(usage.reset_at.timestamp()) - usage.window_s
        key = f"{_base_key(vendor, usage.name)}:{start}"
        if client.decrby(key, amount) < 0:
            client.delete(key)


def quota_refund_at(*, vendor: Vendor, charges: Mapping[str, int], at: datetime) -> None:
    """Give back charges counted at `at` into the windows they were counted in, where those are
    still open; a window that has closed has reset already, so nothing is left to give back."""
    client = get_redis()
    limits = vendor_limits(vendor=vendor)
    moment = int(at.timestamp())
    for name, amount in charges.items():
        if name not in QUOTAS or amount <= 0:
            continue
        _, window = _limit_and_window(limits, name)
        client.eval(_REFUND_IF_OPEN, 1, f"{_base_key(vendor, name)}:{moment - moment % window}", int(amount))


# KEYS[1]: a window's counter; ARGV[1]: the amount. Only a window still counted is changed.
_REFUND_IF_OPEN = """
local left = redis.call('DECRBY', KEYS[1], ARGV[1])
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
"""


@dataclass
class Charge:
    """What quota_charged counted for one operation, so it can be given back."""

    vendor: Vendor
    charges: Mapping[str, int]
    usages: list[QuotaUsage]

    def refund(self) -> None:
        quota_refund(vendor=self.vendor, usages=self.usages, charges=self.charges)


@contextmanager
def quota_charged(*, vendor: Vendor, charges: Mapping[str, int]) -> Iterator[Charge]:
    """The one rule for charging an operation: count `charges` all or none before it runs
    (QuotaExceeded when they do not fit), and give them all back if it raises, whatever it raises."""
    charge = Charge(vendor=vendor, charges=charges, usages=quota_consume(vendor=vendor, charges=charges))
    try:
        yield charge
    except BaseException:
        charge.refund()
        raise


def quota_usage(*, vendor: Vendor) -> list[QuotaUsage]:
    """Every quota of the vendor: limit, used and remaining in the current window, reset time."""
    _, _, usages = _run(vendor, dict.fromkeys(QUOTAS, 0))
    return usages


def tightest(usages: list[QuotaUsage]) -> QuotaUsage | None:
    """The limited quota with the fewest remaining: the one a client should watch."""
    limited = [usage for usage in usages if usage.limit is not None]
    return min(limited, key=lambda usage: (usage.remaining, usage.reset_at)) if limited else None


def _seconds_left(usage: QuotaUsage, now: datetime) -> int:
    return max(0, math.ceil((usage.reset_at - now).total_seconds())) if usage.reset_at else 0


def rate_limit_headers(*usages: QuotaUsage) -> dict[str, str]:
    """The fields of draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` names every limited
    quota the request counted against (q: limit, w: window in seconds) and `RateLimit` says where
    each stands (r: remaining, t: seconds to its reset), the closest to running out first. Beside
    them the older X-RateLimit-* of that closest one."""
    latest = {usage.name: usage for usage in usages if usage.limit is not None}
    first = tightest(list(latest.values()))
    if first is None:
        return {}
    ordered = [first, *(usage for name, usage in latest.items() if name != first.name)]
    now = datetime.now(UTC)
    return {
        "RateLimit-Policy": ", ".join(f'"{u.name}";q={u.limit};w={u.window_s}' for u in ordered),
        "RateLimit": ", ".join(f'"{u.name}";r={u.remaining};t={_seconds_left(u, now)}' for u in ordered),
        "X-RateLimit-Limit": str(first.limit),
        "X-RateLimit-Remaining": str(first.remaining),
        "X-RateLimit-Reset": str(int((first.reset_at or now).timestamp())),
    }


ANONYMOUS_GROUP = "darkroom.anonymous"


def client_ip(request) -> str:
    """The caller's address, the key of the anonymous limit (RATELIMIT_IP_META_KEY) and of
    sign-in lockouts (AXES_CLIENT_IP_CALLABLE): REMOTE_ADDR, or, when that is a proxy listed in
    TRUSTED_PROXIES (FORWARDED_ALLOW_IPS, which the ASGI server reads too), the address
    X-Forwarded-For names behind it. A spoofed X-Forwarded-For from anyone else is ignored."""
    return client_address(
        peer=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        proxies=trusted_proxies(tuple(settings.TRUSTED_PROXIES)),
    )


def anonymous_consume(*, request) -> QuotaUsage:
    """Count one request of an anonymous caller or a sign-in attempt against its IP's limit
    (ANON_RATE_LIMIT, e.g. "100/15m"), with django-ratelimit over the Redis cache. Raises
    QuotaExceeded once the IP is over it."""
    rate = settings.ANON_RATE_LIMIT
    limit, window = _split_rate(rate)
    usage = get_usage(request, group=ANONYMOUS_GROUP, key="ip", rate=rate, increment=True)
    used = min(usage["count"], limit + 1)
    quota = QuotaUsage(
        name="anonymous_requests",
        limit=limit,
        used=used,
        remaining=max(0, limit - used),
        reset_at=datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) + usage["time_left"], UTC),
        window_s=window,
    )
    if usage["should_limit"]:
        _count_refusal(quota.name, "")
        raise QuotaExceeded(quota, requested=1)
    return quota


def quota_keys_delete(*, vendor: Vendor) -> list[str]:
    """Forget everything Redis counts for the vendor (when it is offboarded): its quota counters
    (every window) and its refusal counts. Returns the keys and fields removed."""
    client = get_redis()
    keys = [key.decode() for key in client.scan_iter(match=f"{_base_key(vendor, '*')}", count=1000)]
    if keys:
        client.delete(*keys)
    fields = [f"{name}|{vendor.slug}" for name in QUOTAS]
    gone = [field for field, removed in zip(fields, _hdel_each(client, REFUSALS_KEY, fields), strict=True) if removed]
    return keys + [f"{REFUSALS_KEY}[{field}]" for field in gone]


def _hdel_each(client, key: str, fields: list[str]) -> list[int]:
    with client.pipeline(transaction=False) as pipe:
        for field in fields:
            pipe.hdel(key, field)
        return pipe.execute()
