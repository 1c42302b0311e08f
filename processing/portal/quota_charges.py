"""What starting jobs from the portal costs against the vendor's quotas (vendors/quotas.py),
and the sentence a refusal is shown as."""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import date_format

from vendors import quotas


def start_charges(*, kind: str, count: int) -> dict[str, int]:
    """One image-processing request, one bulk operation when it covers several images, and one
    background removal per image."""
    charges = {quotas.IMAGE_REQUESTS: 1}
    if count > 1:
        charges[quotas.BULK] = 1
    if kind == "remove_bg":
        charges[quotas.REMOVE_BG] = count
    return charges


def refusal_sentence(exc: quotas.QuotaExceeded) -> str:
    usage = exc.usage
    when = date_format(timezone.localtime(usage.reset_at), "H:i T") if usage.reset_at else "later"
    return (
        f"You have used {usage.used} of your {usage.limit} {usage.description} for this period "
        f"and asked for {exc.requested} more; the limit resets at {when}."
    )
