"""What starting jobs costs against a vendor's quotas (vendors/quotas.py), whoever starts them:
the API, the portal, a retry. The one place that knows which work each quota counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from processing.jobs.kinds.registry import get_processor
from vendors import quotas

PIPELINE = "pipeline"


def step_kinds(*, kind: str, params: Mapping[str, Any] | None) -> list[str]:
    """The kinds of work a job does: a pipeline's steps, any other job its own kind.

    `params` are a job's stored (cleaned) params (Job.run_params); for what a client sent, see
    `cleaned_step_kinds`."""
    if kind != PIPELINE:
        return [kind]
    steps = params.get("steps") if isinstance(params, Mapping) else None
    if not isinstance(steps, list):
        return [kind]
    return [str(step.get("kind")) for step in steps if isinstance(step, Mapping)] or [kind]


def cleaned_step_kinds(*, kind: str, params: Mapping[str, Any] | None) -> list[str]:
    """The kinds of work a job will do, read from its params as the kind's own validation cleans
    them (the very params the job then runs): a charge is never decided by a raw spelling the
    validation reads otherwise. InvalidOptions (a 400) for params that would not validate, before
    anything is charged."""
    if kind != PIPELINE:
        return [kind]
    return step_kinds(kind=kind, params=get_processor(kind).clean_params(dict(params or {})))


def charges_for_jobs(
    *, kind: str, count: int, bulk: bool, params: Mapping[str, Any] | None, uploads: int = 0, stored: bool = False
) -> dict[str, int]:
    """A single job counts as one image-processing request, a bulk request as one bulk
    operation; background removals are counted per image and per step on top, and photos
    uploaded with the request as uploads. `params` as the client gave them, validated here;
    `stored`: a job's own stored params (a retry), already clean."""
    return {
        quotas.BULK if bulk else quotas.IMAGE_REQUESTS: 1,
        **per_image_charges(kind=kind, count=count, params=params, stored=stored),
        **upload_charges(count=uploads),
    }


def upload_charges(*, count: int) -> dict[str, int]:
    """Photos stored: each counts against the uploads quota (and its bytes against the storage
    quota, when record_create stores it)."""
    return {quotas.UPLOADS: count} if count else {}


def per_image_charges(
    *, kind: str, count: int, params: Mapping[str, Any] | None, stored: bool = False
) -> dict[str, int]:
    """The part of a charge that grows with the number of images: a pipeline of three
    remove_bg steps over 10 images is 30 background removals; each ai_endpoint job or step is
    one AI call (a call asked again for a better answer is the same call). AI work is also
    refused once the day's AI tokens are spent: they are counted after the calls (quota_spend),
    so the charge here is nothing."""
    kinds = (step_kinds if stored else cleaned_step_kinds)(kind=kind, params=params)
    charges = {quotas.REMOVE_BG: count * kinds.count("remove_bg"), quotas.AI_CALLS: count * kinds.count("ai_endpoint")}
    charges = {name: amount for name, amount in charges.items() if amount}
    if quotas.AI_CALLS in charges:
        charges[quotas.AI_TOKENS] = 0
    return charges
