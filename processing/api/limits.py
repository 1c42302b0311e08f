"""Request limits on the API: which quota a request counts against, and the headers that say
where the caller stands. The counting itself lives in vendors/quotas.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from vendors import quotas
from vendors.models import Vendor

USAGES_ATTR = "_darkroom_quota_usages"


def charges_for_jobs(*, kind: str, count: int, bulk: bool) -> dict[str, int]:
    """A single job counts as one image-processing request, a bulk request as one bulk
    operation; background removals are counted per image on top."""
    charges = {quotas.BULK if bulk else quotas.IMAGE_REQUESTS: 1}
    if kind == "remove_bg":
        charges[quotas.REMOVE_BG] = count
    return charges


def remember(request, usages: list[quotas.QuotaUsage]) -> None:
    setattr(request, USAGES_ATTR, [*getattr(request, USAGES_ATTR, []), *usages])


def consume(request, *, vendor: Vendor, charges: Mapping[str, int]) -> list[quotas.QuotaUsage]:
    """Count the request's charges, all or none; QuotaExceeded (a 429) when they do not fit."""
    usages = quotas.quota_consume(vendor=vendor, charges=charges)
    remember(request, usages)
    return usages


def limit_anonymous(request) -> None:
    """Anonymous callers, and callers whose credentials fail, count against their IP's limit."""
    try:
        user = request.user
    except (AuthenticationFailed, NotAuthenticated):
        user = None
    if user is None or not user.is_authenticated:
        remember(request, [quotas.anonymous_consume(request=request)])


def rate_limit_headers(usage: quotas.QuotaUsage) -> dict[str, str]:
    reset = usage.reset_at or datetime.now(UTC)
    return {
        "X-RateLimit-Limit": str(usage.limit),
        "X-RateLimit-Remaining": str(usage.remaining),
        "X-RateLimit-Reset": str(int(reset.timestamp())),
    }


def add_rate_limit_headers(request, response) -> None:
    usage = quotas.tightest(getattr(request, USAGES_ATTR, []))
    if usage is not None and "X-RateLimit-Limit" not in response:
        for name, value in rate_limit_headers(usage).items():
            response[name] = value
