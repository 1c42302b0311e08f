"""What starting jobs costs against a vendor's quotas (vendors/quotas.py), whoever starts them:
the API, the portal, a retry. The one place that knows which work each quota counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vendors import quotas

PIPELINE = "pipeline"


def step_kinds(*, kind: str, params: Mapping[str, Any] | None) -> list[str]:
    """The kinds of work a job does: a pipeline's steps, any other job its own kind.

    Read from params as given (before validation, so a charge comes first); a malformed pipeline
    counts as itself and is then refused by its own validation."""
    if kind != PIPELINE:
        return [kind]
    steps = params.get("steps") if isinstance(params, Mapping) else None
    if not isinstance(steps, list):
        return [kind]
    return [str(step.get("kind")) for step in steps if isinstance(step, Mapping)] or [kind]


def charges_for_jobs(
    *, kind: str, count: int, bulk: bool, params: Mapping[str, Any] | None, uploads: int = 0
) -> dict[str, int]:
    """A single job counts as one image-processing request, a bulk request as one bulk
    operation; background removals are counted per image and per step on top, and photos
    uploaded with the request as uploads."""
    return {
        quotas.BULK if bulk else quotas.IMAGE_REQUESTS: 1,
        **per_image_charges(kind=kind, count=count, params=params),
        **upload_charges(count=uploads),
    }


def upload_charges(*, count: int) -> dict[str, int]:
    """Photos stored: each counts against the uploads quota (and its bytes against the storage
    quota, when record_create stores it)."""
    return {quotas.UPLOADS: count} if count else {}


def per_image_charges(*, kind: str, count: int, params: Mapping[str, Any] | None) -> dict[str, int]:
    """The part of a charge that grows with the number of images: a pipeline of three
    remove_bg steps over 10 images is 30 background removals."""
    removals = step_kinds(kind=kind, params=params).count("remove_bg")
    return {quotas.REMOVE_BG: count * removals} if removals else {}
