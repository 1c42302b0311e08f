"""Offboarding: an operator removes a vendor and everything it stored, in the background.

In order, each step in bounded batches and safe to run again (a retry carries on):
1. the vendor is made inactive and paused (when asked for), so nothing new starts;
2. rows of other apps that point at the vendor (webhook endpoints with their deliveries, and
   whatever a later app adds) go first, so nothing they do reacts to the cancels below;
3. its unfinished jobs are cancelled (a running one can no longer store its result);
4. its records go as a delete does (files into the deletion journal, drained batch by batch),
   then its exports and the result files of jobs without a record;
5. every remaining row with a foreign key to the vendor (jobs, batches, idempotency keys,
   projects, project deletions, memberships, ...), found through the app registry so a model
   added later is not forgotten;
6. its users who belong to no other vendor (and are not operators) are deleted, their API
   keys with them; users of other vendors keep their account and keys;
7. its Redis keys: quota counters and refusal counts, its place in the fairness order, its
   event streams' leases (vendor_offboarded receivers);
8. the vendor row, then the journal's entries for it are drained; an audit line says what went.
"""

from __future__ import annotations

import logging
import uuid

import dramatiq
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from processing.engine.admission import vendor_forget
from processing.jobs.models import Job
from processing.jobs.services import exports_discard, jobs_cancel, records_delete
from processing.jobs.services.transitions import CHUNK, retried_on_deadlock
from processing.jobs.states import FINISHED
from vendors import audit, quotas
from vendors.models import Membership, Record, StorageDeletion, Vendor, VendorOffboarding
from vendors.services import vendor_set_paused
from vendors.signals import vendor_offboarded
from vendors.storage_journal import storage_deletions_drain, storage_deletions_journal, vendor_folders_remove

logger = logging.getLogger(__name__)

QUEUE = "maintenance"
# Core models deleted in their own step (4) or last (the vendor's own rows, 5).
_CORE_APPS = {Vendor._meta.app_label, Job._meta.app_label}


class OffboardingConfirmationMismatch(Exception):
    pass


class OffboardingAlreadyRunning(Exception):
    pass


def vendor_offboard_start(*, vendor: Vendor, confirmation: str, actor: AbstractBaseUser) -> VendorOffboarding:
    """The operator typed the vendor's slug: make it inactive and paused at once, note the
    offboarding and its audit line; the caller has a worker run it after commit."""
    if confirmation.strip() != vendor.slug:
        raise OffboardingConfirmationMismatch(vendor.slug)
    with transaction.atomic():
        Vendor.objects.select_for_update().filter(pk=vendor.pk).first()  # one start at a time
        if VendorOffboarding.objects.filter(vendor_id=vendor.pk, state=VendorOffboarding.State.RUNNING).exists():
            raise OffboardingAlreadyRunning(vendor.slug)
        Vendor.objects.filter(pk=vendor.pk).update(is_active=False)
        vendor_set_paused(vendor=vendor, paused=True)
        offboarding = VendorOffboarding.objects.create(
            vendor_id=vendor.pk, vendor_slug=vendor.slug, requested_by_name=actor.get_username()
        )
        audit.audit_log(
            action=audit.VENDOR_OFFBOARDING,
            vendor=vendor,
            target=f"vendor {vendor.slug}",
            actor=actor,
            operator=True,
            count=Record.objects.filter(vendor=vendor).count(),
            details={"offboarding": str(offboarding.pk)},
        )
    logger.info("vendor %s is being offboarded by %s", vendor.slug, actor.get_username())
    return offboarding


def vendor_offboard_run(*, offboarding_id: uuid.UUID) -> VendorOffboarding:
    offboarding = VendorOffboarding.objects.get(pk=offboarding_id)
    vendor = Vendor.objects.filter(pk=offboarding.vendor_id).first()
    if offboarding.state == VendorOffboarding.State.DONE:
        return offboarding
    removed: dict[str, int | list[str]] = dict(offboarding.removed or {})
    if vendor is not None:
        _remove_rows_of_other_apps(vendor, removed)
        _cancel_jobs(vendor)
        _remove_records(vendor, removed)
        _remove_job_results(vendor, removed)
        if "member_ids" not in removed:  # kept on the row: a retry after the memberships went still knows them
            removed["member_ids"] = list(Membership.objects.filter(vendor=vendor).values_list("user_id", flat=True))
            VendorOffboarding.objects.filter(pk=offboarding.pk).update(removed=removed)
        _remove_vendor_rows(vendor, removed)
        _remove_users(list(removed["member_ids"]), removed)
        keys = quotas.quota_keys_delete(vendor=vendor) + vendor_forget(vendor_uid=vendor.uid.hex)
        sent = vendor_offboarded.send_robust(
            sender=Vendor, vendor_id=vendor.pk, vendor_uid=vendor.uid.hex, vendor_slug=vendor.slug
        )
        for _, answer in sent:
            keys += answer if isinstance(answer, list) else []
        removed["redis_keys"] = keys
        Vendor.objects.filter(pk=vendor.pk).delete()
    files = storage_deletions_drain(ids=list(_journal_of(offboarding.vendor_id)))
    removed["files"] = int(removed.get("files", 0)) + files.files
    left = StorageDeletion.objects.filter(vendor_id=offboarding.vendor_id).count()
    if not left:
        removed["folders"] = len(vendor_folders_remove(vendor_id=offboarding.vendor_id))
    with transaction.atomic():
        VendorOffboarding.objects.filter(pk=offboarding.pk).update(
            state=VendorOffboarding.State.DONE,
            removed=removed,
            finished_at=timezone.now(),
            error=f"{left} file(s) left in the deletion journal for the retention run" if left else "",
        )
        audit.audit_log(
            action=audit.VENDOR_OFFBOARDED,
            vendor=Vendor(pk=offboarding.vendor_id, slug=offboarding.vendor_slug),  # its row is gone: named only
            target=f"vendor {offboarding.vendor_slug}",
            count=int(removed.get("records", 0)),
            details={"offboarding": str(offboarding.pk), **removed},
        )
    logger.info("vendor %s offboarded: %s", offboarding.vendor_slug, removed)
    offboarding.refresh_from_db()
    return offboarding


def _journal_of(vendor_id: int):
    return StorageDeletion.objects.filter(vendor_id=vendor_id).values_list("pk", flat=True)


def _vendor_models() -> list[tuple[type[models.Model], str]]:
    """Every model with a foreign key to Vendor, and that key's name."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is Vendor:
                found.append((model, field.name))
    return found


def _delete_in_batches(model: type[models.Model], query: Q, removed: dict) -> None:
    rows = model.objects.filter(query)
    while ids := list(rows.values_list("pk", flat=True)[:CHUNK]):
        _, counts = retried_on_deadlock(model.objects.filter(pk__in=ids).delete)()
        for label, count in counts.items():
            removed[label] = int(removed.get(label, 0)) + count


def _remove_rows_of_other_apps(vendor: Vendor, removed: dict) -> None:
    for model, field in _vendor_models():
        if model._meta.app_label not in _CORE_APPS:
            _delete_in_batches(model, Q(**{field: vendor}), removed)


def _cancel_jobs(vendor: Vendor) -> None:
    unfinished = Job.objects.filter(vendor=vendor).exclude(state__in=FINISHED)
    while ids := list(unfinished.values_list("pk", flat=True)[:CHUNK]):
        jobs_cancel(job_ids=ids)


def _remove_records(vendor: Vendor, removed: dict) -> None:
    records = Record.objects.filter(vendor=vendor)
    while ids := list(records.values_list("pk", flat=True)[:CHUNK]):
        report = records_delete(vendor=vendor, record_ids=ids, audited=False, drain=False)
        removed["records"] = int(removed.get("records", 0)) + report.records
        removed["files"] = int(removed.get("files", 0)) + storage_deletions_drain(ids=report.journal).files
    with transaction.atomic():
        journal = exports_discard(vendor=vendor, query=Q())
    removed["files"] = int(removed.get("files", 0)) + storage_deletions_drain(ids=journal).files


def _remove_job_results(vendor: Vendor, removed: dict) -> None:
    """Results of jobs without a record (an input URL): their files, then the jobs go with the rest."""
    jobs = Job.objects.filter(vendor=vendor, result__isnull=False)
    while rows := list(jobs.values_list("pk", "result")[:CHUNK]):
        with transaction.atomic():
            names = [result.get("name", "") for _, result in rows if isinstance(result, dict)]
            journal = storage_deletions_journal(names=names, vendor_id=vendor.pk)
            Job.objects.filter(pk__in=[pk for pk, _ in rows]).update(result=None)
        removed["files"] = int(removed.get("files", 0)) + storage_deletions_drain(ids=journal).files


def _remove_vendor_rows(vendor: Vendor, removed: dict) -> None:
    # Jobs before batches and projects before memberships: each batch's cascade stays small.
    order = {Job: 0}
    for model, field in sorted(_vendor_models(), key=lambda pair: order.get(pair[0], 1)):
        _delete_in_batches(model, Q(**{field: vendor}), removed)


def _remove_users(user_ids: list[int], removed: dict) -> None:
    """The vendor's people who belong to no other vendor and are not operators: deleted, with
    their API keys and sessions' access (a deleted user's session no longer signs anyone in)."""
    User = get_user_model()
    alone = (
        User.objects.filter(pk__in=user_ids, is_staff=False, is_superuser=False)
        .exclude(memberships__isnull=False)
        .values_list("pk", flat=True)
    )
    names = list(User.objects.filter(pk__in=list(alone)).values_list("username", flat=True))
    _delete_in_batches(User, Q(pk__in=list(alone)), removed)
    removed["users_deleted"] = names


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=5_000, max_backoff=300_000, time_limit=4 * 60 * 60 * 1000)
def offboard_vendor(offboarding_id: str) -> None:
    """Safe to run again: every step carries on from what is left."""
    vendor_offboard_run(offboarding_id=uuid.UUID(offboarding_id))


def offboarding_send(offboarding_id: uuid.UUID) -> None:
    transaction.on_commit(lambda: offboard_vendor.send(str(offboarding_id)))
