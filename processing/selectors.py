"""Reads of jobs and batches. Every read is scoped by a vendor."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from vendors.models import Vendor

from .models import Batch, Job


def job_list(*, vendor: Vendor) -> QuerySet[Job]:
    return Job.objects.filter(vendor=vendor)


def job_get(*, vendor: Vendor, job_id: uuid.UUID | str) -> Job | None:
    try:
        return job_list(vendor=vendor).filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None


def batch_get(*, vendor: Vendor, batch_id: uuid.UUID | str) -> Batch | None:
    try:
        return Batch.objects.filter(vendor=vendor, pk=uuid.UUID(str(batch_id))).first()
    except ValueError:
        return None
