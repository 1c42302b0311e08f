"""What starting jobs costs against a vendor's quotas (vendors/quotas.py), whoever starts them:
the API, the portal, a retry. The one place that knows which work each quota counts."""

from __future__ import annotations

from vendors import quotas


def charges_for_jobs(*, kind: str, count: int, bulk: bool) -> dict[str, int]:
    """A single job counts as one image-processing request, a bulk request as one bulk
    operation; background removals are counted per image on top."""
    return {quotas.BULK if bulk else quotas.IMAGE_REQUESTS: 1, **per_image_charges(kind=kind, count=count)}


def per_image_charges(*, kind: str, count: int) -> dict[str, int]:
    """The part of a charge that grows with the number of images."""
    return {quotas.REMOVE_BG: count} if kind == "remove_bg" else {}
