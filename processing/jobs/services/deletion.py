"""Deleting a vendor's records and projects, and the retention that deletes records past their
days: the same effects for each. In one transaction per batch of records: their unfinished jobs
are cancelled (a running one can no longer apply its result: its token is gone), their finished
jobs keep their rows only as counts (no result, no record), the names of every file they had
(original, results, previews) go into the deletion journal, the rows go, and their bytes go back
to the storage quota. The files go after commit (vendors/storage_journal.py), and whatever could
not be removed then stays in the journal for the retention run to try again."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from processing.jobs import signals
from processing.jobs.models import Job
from processing.jobs.services.control import jobs_cancel
from processing.jobs.services.exports import exports_discard
from processing.jobs.services.transitions import CHUNK, chunks, retried_on_deadlock
from processing.jobs.states import FINISHED, JobState
from vendors import audit
from vendors.models import Project, ProjectDeletion, Record, Vendor
from vendors.selectors import vendor_retention_days
from vendors.services import storage_given_back_in_bulk
from vendors.storage_journal import storage_deletions_drain, storage_deletions_journal

logger = logging.getLogger(__name__)

# Journal entries a request removes itself after its commit; beyond, a worker does (so a large
# selection answers at once on a slow object store).
INLINE_DRAIN = 64
_FILE_FIELDS = ("original", "processed", "original_thumbnail", "processed_thumbnail")


@dataclass(frozen=True)
class DeletedRecords:
    records: int
    bytes: int
    journal: list[int]


def records_delete(
    *,
    vendor: Vendor,
    record_ids: list[int],
    actor: AbstractBaseUser | None = None,
    operator: bool = False,
    action: str = audit.RECORDS_DELETED,
    audited: bool = True,
    drain: bool = True,
) -> DeletedRecords:
    """Delete those of the vendor's records that exist (any other id is ignored: deleting twice
    is harmless), CHUNK per transaction, with the effects above; note it in the audit trail
    (`actor`: a vendor's user, an operator when `operator`, None for retention). With `drain`,
    their files are removed after commit: here when few, else by a worker."""
    records = size = 0
    journal: list[int] = []
    names: list[str] = []
    for chunk in chunks(list(record_ids)):
        deleted, freed, entries, labels = retried_on_deadlock(_delete_batch)(vendor, chunk)
        records, size = records + deleted, size + freed
        journal += entries
        names += labels
    if audited and records:
        target = f"record {record_ids[0]} ({names[0]})" if records == 1 else f"{records} records"
        audit.audit_log(
            action=action,
            vendor=vendor,
            target=target,
            actor=actor,
            operator=operator,
            count=records,
            details={"bytes": size, "record_ids": list(record_ids)[:1000]},
        )
    if drain and journal:
        storage_deletions_start(journal=journal)
    return DeletedRecords(records=records, bytes=size, journal=journal)


def storage_deletions_start(*, journal: list[int]) -> None:
    """After commit, remove the journal's entries' files here when few, else ask a worker."""
    if len(journal) <= INLINE_DRAIN:
        transaction.on_commit(lambda: storage_deletions_drain(ids=journal))
    else:
        transaction.on_commit(lambda: signals.storage_deletions_journaled.send(sender=Record, count=len(journal)))


@transaction.atomic
def _delete_batch(vendor: Vendor, ids: list[int]) -> tuple[int, int, list[int], list[str]]:
    rows = list(
        Record.objects.select_for_update()
        .filter(vendor=vendor, pk__in=ids)
        .only("pk", "original_filename", "size_bytes", *_FILE_FIELDS)
    )
    if not rows:
        return 0, 0, [], []
    pks = [row.pk for row in rows]
    jobs = list(Job.objects.select_for_update().filter(record_id__in=pks).values_list("pk", "state", "result"))
    unfinished = [pk for pk, state, _ in jobs if state not in FINISHED]
    if unfinished:
        # Its token goes: a running job's result is refused (job_succeed removes its file).
        jobs_cancel(job_ids=unfinished)
    names = [getattr(row, field).name for row in rows for field in _FILE_FIELDS]
    names += [result.get("name", "") for _, _, result in jobs if result]
    # A running job may still write its file before it hears of the cancel (and a worker killed
    # then would leave it): its folder is swept once any run of it has ended.
    late = timezone.now() + timedelta(seconds=settings.JOB_TIME_LIMIT_S + settings.RESULT_ORPHAN_GRACE_S)
    running = [f"results/{vendor.pk}/{pk}/" for pk, state, _ in jobs if state == JobState.RUNNING]
    journal = storage_deletions_journal(names=names, prefixes=running, vendor_id=vendor.pk, prefixes_due_at=late)
    if jobs:
        Job.objects.filter(pk__in=[pk for pk, _, _ in jobs]).update(result=None)
    freed = sum(row.size_bytes or 0 for row in rows)
    with storage_given_back_in_bulk(vendor_id=vendor.pk, size=freed):
        Record.objects.filter(pk__in=pks).delete()  # the jobs' record becomes null
    return len(rows), freed, journal, [row.original_filename or str(row.pk) for row in rows]


class ProjectAlreadyDeleting(Exception):
    pass


def project_delete_start(
    *, vendor: Vendor, project: Project, actor: AbstractBaseUser | None = None, operator: bool = False
) -> ProjectDeletion:
    """Mark the project deleted (gone for every read from now on) and note how many records it
    holds; project_deletion_run then deletes them in batches, in the background."""
    with transaction.atomic():
        marked = Project.objects.filter(pk=project.pk, vendor=vendor, deletion_requested_at__isnull=True).update(
            deletion_requested_at=timezone.now()
        )
        if not marked:
            raise ProjectAlreadyDeleting(project.pk)
        deletion = ProjectDeletion.objects.create(
            vendor=vendor,
            project_id=project.pk,
            project_name=project.name,
            total=Record.objects.filter(project_id=project.pk).count(),
            requested_by=actor,
        )
        audit.audit_log(
            action=audit.PROJECT_DELETED,
            vendor=vendor,
            target=f"project {project.pk} ({project.name})",
            actor=actor,
            operator=operator,
            count=deletion.total,
            details={"deletion": str(deletion.pk)},
        )
    return deletion


def project_deletion_run(*, deletion_id: uuid.UUID, batch: int = CHUNK, limit: int | None = None) -> ProjectDeletion:
    """Delete the project's records `batch` at a time (their files removed after each batch),
    counting progress, then the project itself. Picks up where an earlier run stopped; with
    `limit`, stops after about that many records (the rest for a later run)."""
    deletion = ProjectDeletion.objects.select_related("vendor").get(pk=deletion_id)
    done = 0
    while deletion.state == ProjectDeletion.State.RUNNING and (limit is None or done < limit):
        ids = list(Record.objects.filter(project_id=deletion.project_id).values_list("pk", flat=True)[:batch])
        if not ids:
            with transaction.atomic():
                # Its exports hold only its data: they go with it (an export of all data stays).
                exported = exports_discard(vendor=deletion.vendor, query=Q(project_id=deletion.project_id))
                Project.objects.filter(pk=deletion.project_id).delete()
                ProjectDeletion.objects.filter(pk=deletion.pk).update(
                    state=ProjectDeletion.State.DONE, finished_at=timezone.now()
                )
            storage_deletions_drain(ids=exported)
            deletion.refresh_from_db()
            break
        report = records_delete(vendor=deletion.vendor, record_ids=ids, audited=False, drain=False)
        ProjectDeletion.objects.filter(pk=deletion.pk).update(deleted=F("deleted") + report.records)
        storage_deletions_drain(ids=report.journal)
        done += len(ids)
    return deletion


def project_deletions_resume(*, limit: int, stale_after_s: int = 600) -> int:
    """Carry on deletions whose worker stopped (no progress for `stale_after_s`): at most `limit`
    records this call. Returns how many records went."""
    before = timezone.now() - timedelta(seconds=stale_after_s)
    removed = 0
    for deletion_id in ProjectDeletion.objects.filter(
        state=ProjectDeletion.State.RUNNING, created_at__lt=before
    ).values_list("pk", flat=True):
        if removed >= limit:
            break
        start = ProjectDeletion.objects.values_list("deleted", flat=True).get(pk=deletion_id)
        deletion = project_deletion_run(deletion_id=deletion_id, limit=limit - removed)
        removed += deletion.deleted - start
    return removed


def records_expire(*, now: datetime | None = None, limit: int) -> int:
    """Delete the records kept past their vendor's retention (plan's retention_days, or the
    vendor's override; none: forever), at most `limit` this call, CHUNK per transaction, with
    the effects of a delete; one audit line per vendor. Returns how many went."""
    now = now or timezone.now()
    removed = 0
    for vendor in Vendor.objects.select_related("plan").order_by("pk"):
        days = vendor_retention_days(vendor=vendor)
        if days is None or removed >= limit:
            continue
        expired = Record.objects.filter(vendor=vendor, created_at__lt=now - timedelta(days=days)).order_by("created_at")
        count = size = 0
        journal: list[int] = []
        while removed < limit and (ids := list(expired.values_list("pk", flat=True)[: min(CHUNK, limit - removed)])):
            report = records_delete(vendor=vendor, record_ids=ids, audited=False, drain=False)
            if not report.records:
                break
            count, size, removed = count + report.records, size + report.bytes, removed + report.records
            journal += report.journal
        if count:
            audit.audit_log(
                action=audit.RECORDS_EXPIRED,
                vendor=vendor,
                target=f"{count} records older than {days} days",
                count=count,
                details={"bytes": size, "retention_days": days},
            )
            logger.info("retention removed %s records of vendor %s (kept %s days)", count, vendor.slug, days)
    return removed
