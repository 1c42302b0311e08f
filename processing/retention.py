"""Finished jobs are removed after a while, with the result files no record points at."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from vendors.models import Record

from .models import Job
from .states import JobState

logger = logging.getLogger(__name__)
CHUNK = 500


@dataclass(frozen=True)
class PurgeReport:
    jobs: int
    files: int


def jobs_purge_finished(*, now: datetime | None = None) -> PurgeReport:
    now = now or timezone.now()
    ages = {
        JobState.SUCCEEDED: timedelta(hours=settings.JOB_RETENTION_SUCCEEDED_H),
        JobState.FAILED: timedelta(hours=settings.JOB_RETENTION_FAILED_H),
        JobState.CANCELLED: timedelta(hours=settings.JOB_RETENTION_FAILED_H),
    }
    jobs = files = 0
    for state, age in ages.items():
        expired = Job.objects.filter(state=state, finished_at__lt=now - age)
        while chunk := list(expired.values_list("pk", "result")[:CHUNK]):
            files += _delete_unreferenced_results([result["name"] for _, result in chunk if result])
            deleted, _ = Job.objects.filter(pk__in=[pk for pk, _ in chunk]).delete()
            jobs += deleted
    if jobs:
        logger.info("retention removed %s finished jobs and %s result files", jobs, files)
    return PurgeReport(jobs=jobs, files=files)


def _delete_unreferenced_results(names: list[str]) -> int:
    kept = set(Record.objects.filter(processed__in=names).values_list("processed", flat=True))
    removed = 0
    for name in names:
        if name not in kept and default_storage.exists(name):
            default_storage.delete(name)
            removed += 1
    return removed
