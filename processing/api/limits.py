"""Request limits on the API: which quota a request counts against, and the headers that say
where the caller stands. The counting itself lives in vendors/quotas.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from vendors import quotas
from vendors.models import Vendor

USAGES_ATTR = "_darkroom_quota_usages"


def remember(request, usages: list[quotas.QuotaUsage]) -> None:
    setattr(request, USAGES_ATTR, [*getattr(request, USAGES_ATTR, []), *usages])


def consume(request, *, vendor: Vendor, charges: Mapping[str, int]) -> list[quotas.QuotaUsage]:
    """Count a read's charges, all or none; QuotaExceeded (a 429) when they do not fit."""
    usages = quotas.quota_consume(vendor=vendor, charges=charges)
    remember(request, usages)
    return usages


@contextmanager
def charged(request, *, vendor: Vendor, charges: Mapping[str, int]) -> Iterator[quotas.Charge]:
    """quota_charged, with the usages kept for the response's rate-limit headers."""
    with quotas.quota_charged(vendor=vendor, charges=charges) as charge:
        remember(request, charge.usages)
        yield charge


def limit_anonymous(request) -> None:
    """Anonymous callers, and callers whose credentials fail, count against their IP's limit."""
    try:
        user = request.user
    except (AuthenticationFailed, NotAuthenticated):
        user = None
    if user is None or not user.is_authenticated:
        remember(request, [quotas.anonymous_consume(request=request)])


def add_rate_limit_headers(request, response) -> None:
    if "RateLimit" in response:  # a refusal already says which quota refused it
        return
    for name, value in quotas.rate_limit_headers(*getattr(request, USAGES_ATTR, [])).items():
        response[name] = value
