"""Guesses at one username from many addresses. Sign-in lockouts (django-axes) count per IP and
per username *and* IP, so nobody else's guesses lock an operator out; a username guessed at from
many addresses (a botnet, or someone behind many proxies) is told to operators instead: an ERROR
line every AXES_USERNAME_ALERT_FAILURES failures for it within the cool-off."""

from __future__ import annotations

import logging
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

logger = logging.getLogger(__name__)


def on_sign_in_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """After axes has counted the failure (its receiver is connected first: its app comes first)."""
    username = (credentials or {}).get("username")
    threshold = settings.AXES_USERNAME_ALERT_FAILURES
    if not username or threshold <= 0:
        return
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    seen = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        failures=Sum("failures_since_start"), addresses=Count("ip_address", distinct=True)
    )
    failures = seen["failures"] or 0
    if failures >= threshold and failures % threshold == 0:
        logger.error(
            "sign-in: %s failed attempts for the username %r from %s addresses within %s h; "
            "each address is locked on its own, the account is not",
            failures,
            username,
            seen["addresses"],
            settings.AXES_COOLOFF_TIME,
            extra={"username": username, "failures": failures, "addresses": seen["addresses"]},
        )
