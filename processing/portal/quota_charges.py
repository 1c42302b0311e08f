"""What starting jobs from the portal counts (processing/jobs/charges.py, as through the API),
and the sentence a refusal is shown as."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from processing.jobs.charges import charges_for_jobs
from vendors import quotas


def start_charges(*, kind: str, count: int, params: Mapping[str, Any] | None, stored: bool = False) -> dict[str, int]:
    """Counted as the API counts it: one photo is a single job, several are a bulk request.
    `stored`: the params of jobs that ran before (a retry), already clean."""
    return charges_for_jobs(kind=kind, count=count, bulk=count > 1, params=params, stored=stored)


def refusal_sentence(exc: quotas.QuotaExceeded) -> str:
    usage = exc.usage
    when = date_format(timezone.localtime(usage.reset_at), "H:i T") if usage.reset_at else "later"
    if usage.name in quotas.SPENT_AFTER:
        return (
            f"You have used {usage.used} of your {usage.limit} {usage.description} for this period; "
            f"new AI work can start again when the limit resets at {when}."
        )
    return (
        f"You have used {usage.used} of your {usage.limit} {usage.description} for this period "
        f"and asked for {exc.requested} more; the limit resets at {when}."
    )
