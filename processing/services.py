"""Every change of a job's state. Each change is a compare-and-set on the row, so it holds
across many web and worker processes and on SQLite, which has no row locks."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vendors import services as vendor_services
from vendors.models import Priority, Project, Record, Vendor
from vendors.selectors import vendor_limits

from . import dispatch, events, signals
from .errors import ImageTooLarge, InvalidParams, JobError
from .fetching import check_image_url
from .imaging.output import ImageOutput
from .models import Batch, Job
from .processors import get_processor
from .states import ACTIVE, FINISHED, InvalidTransition, JobState, sources_of

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """The job was cancelled or taken from this worker: stop at the next stage boundary."""


def _transition(job_id: uuid.UUID, target: str, *, held_by: uuid.UUID | None = None, **fields: Any) -> bool:
    """Move a job to `target` if its current state allows it (and, when given, the run that
    holds it is `held_by`). Returns whether this call made the change."""
    rows = Job.objects.filter(pk=job_id, state__in=sources_of(target))
    if held_by is not None:
        rows = rows.filter(run_token=held_by)
    return rows.update(state=target, **fields) == 1


def _resolve_priority(*, vendor: Vendor, priority: str | int | None) -> int:
    if priority is None or priority == "":
        return vendor_limits(vendor=vendor)["default_priority"]
    if isinstance(priority, int):
        return Priority(priority)
    try:
        return Priority.from_label(priority)
    except ValueError as exc:
        raise InvalidParams(str(exc), code="invalid_priority") from None


def check_upload(upload: UploadedFile) -> None:
    """The only image work on the request path: is there something, and is it small enough."""
    if not upload.size:
        raise InvalidParams("the uploaded image is empty", code="empty_upload")
    if upload.size > settings.IMAGE_MAX_BYTES:
        raise ImageTooLarge(f"the upload is {upload.size} bytes; the limit is {settings.IMAGE_MAX_BYTES}")


def job_create(
    *,
    vendor: Vendor,
    kind: str,
    params: dict[str, Any] | None = None,
    priority: str | int | None = None,
    record: Record | None = None,
    upload: UploadedFile | None = None,
    image_url: str | None = None,
    project: Project | None = None,
    batch: Batch | None = None,
    idempotency_key: str | None = None,
) -> Job:
    """Create a job and hand it to the dispatcher once the row is committed."""
    processor = get_processor(kind)
    clean_params = processor.clean_params(params)
    job_priority = _resolve_priority(vendor=vendor, priority=priority)
    given = {name for name, value in (("record", record), ("upload", upload), ("url", image_url)) if value}
    if len(given) > 1 or (not given and "none" not in processor.inputs):
        raise InvalidParams("give exactly one input: an uploaded image, a record or an image URL", code="invalid_input")
    if not given <= processor.inputs:
        raise InvalidParams(f"{kind} does not take a {given.pop()} as input", code="invalid_input")
    if record is not None and record.vendor_id != vendor.pk:
        raise InvalidParams("record not found", code="not_found")
    if image_url:
        check_image_url(image_url)  # syntax and scheme only: the worker resolves and fetches
    if idempotency_key:
        existing = Job.objects.filter(vendor=vendor, idempotency_key=idempotency_key).first()
        if existing:
            return existing
    if upload is not None:
        check_upload(upload)

    try:
        with transaction.atomic():
            if upload is not None:
                target = project or vendor_services.project_default(vendor=vendor)
                record = vendor_services.record_create(project=target, upload=upload)
            job = Job.objects.create(
                vendor=vendor,
                record=record,
                batch=batch,
                kind=kind,
                params=clean_params,
                input_url=image_url or "",
                priority=job_priority,
                max_attempts=processor.retry.max_attempts,
                idempotency_key=idempotency_key or None,
            )
            transaction.on_commit(lambda: dispatch.request_dispatch(kinds=[kind]))
    except IntegrityError:
        if idempotency_key:  # the same key raced us: the first job wins
            return Job.objects.get(vendor=vendor, idempotency_key=idempotency_key)
        raise
    return job


CHUNK = 500  # rows per INSERT/UPDATE: far below MySQL's max_allowed_packet


def batch_create(
    *,
    vendor: Vendor,
    kind: str,
    params: dict[str, Any] | None = None,
    priority: str | int | None = None,
    records: list[Record] | None = None,
    uploads: list[UploadedFile] | None = None,
    image_urls: list[str] | None = None,
    project: Project | None = None,
) -> Batch:
    """Many jobs of one kind in one request: inserted in chunks, admitted as capacity frees up."""
    processor = get_processor(kind)
    clean_params = processor.clean_params(params)
    job_priority = _resolve_priority(vendor=vendor, priority=priority)
    records = list(records or [])
    if any(record.vendor_id != vendor.pk for record in records):
        raise InvalidParams("record not found", code="not_found")
    for upload in uploads or []:
        check_upload(upload)
    image_urls = list(image_urls or [])
    for url in image_urls:
        check_image_url(url)
    if not records and not uploads and not image_urls:
        raise InvalidParams("a batch needs at least one record, image or image URL", code="empty_batch")

    with transaction.atomic():
        if uploads:
            target = project or vendor_services.project_default(vendor=vendor)
            records += [vendor_services.record_create(project=target, upload=upload) for upload in uploads]
        batch = Batch.objects.create(
            vendor=vendor, kind=kind, params=clean_params, priority=job_priority, total=len(records) + len(image_urls)
        )
        inputs = [{"record": record} for record in records] + [{"input_url": url} for url in image_urls]
        Job.objects.bulk_create(
            [
                Job(
                    vendor=vendor,
                    batch=batch,
                    kind=kind,
                    params=clean_params,
                    priority=job_priority,
                    max_attempts=processor.retry.max_attempts,
                    **given,
                )
                for given in inputs
            ],
            batch_size=CHUNK,
        )
        transaction.on_commit(lambda: dispatch.request_dispatch(kinds=[kind]))
    return batch


def batch_cancel(*, batch: Batch) -> int:
    """Cancel every job of the batch that has not finished. Returns how many were cancelled."""
    ids = list(batch.jobs.filter(state__in=sources_of(JobState.CANCELLED)).values_list("pk", flat=True))
    cancelled = 0
    for chunk in _chunks(ids):
        cancelled += Job.objects.filter(pk__in=chunk, state__in=sources_of(JobState.CANCELLED)).update(
            state=JobState.CANCELLED, finished_at=timezone.now(), run_token=None, progress_stage="cancelled"
        )
    batch_finish_if_done(batch_id=batch.pk)
    events.publish_change(batch_id=batch.pk, vendor_id=batch.vendor_id)
    return cancelled


def batch_finish_if_done(*, batch_id: uuid.UUID | None) -> bool:
    """Stamp the batch finished once none of its jobs is waiting or running."""
    if batch_id is None or Job.objects.filter(batch_id=batch_id, state__in=ACTIVE).exists():
        return False
    if not Batch.objects.filter(pk=batch_id, finished_at__isnull=True).update(finished_at=timezone.now()):
        return False
    transaction.on_commit(
        lambda: signals.batch_finished.send(sender=Batch, batch=Batch.objects.select_related("vendor").get(pk=batch_id))
    )
    return True


def job_start(*, job_id: uuid.UUID) -> Job | None:
    """Take a job for this worker. None if it is finished, cancelled, or held by a live worker."""
    now = timezone.now()
    token = uuid.uuid4()
    take = dict(
        run_token=token,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        progress_stage="starting",
        progress_percent=0,
        progress_message="",
    )
    taken = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(state=JobState.RUNNING, **take)
    if not taken:
        # A redelivered message for a job whose worker died: take it over once its heartbeat is stale.
        stale_before = now - timedelta(seconds=settings.JOB_STALL_TIMEOUT_S)
        taken = Job.objects.filter(pk=job_id, state=JobState.RUNNING, heartbeat_at__lt=stale_before).update(**take)
    if not taken:
        return None
    job = Job.objects.select_related("vendor", "record").get(pk=job_id)
    events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
    return job


def job_report_progress(
    *, job_id: uuid.UUID, run_token: uuid.UUID, stage: str, percent: int, message: str = ""
) -> None:
    """Record progress and beat the heart; raise JobCancelled if the job is no longer ours."""
    updated = Job.objects.filter(pk=job_id, state=JobState.RUNNING, run_token=run_token).update(
        progress_stage=stage,
        progress_percent=max(0, min(100, percent)),
        progress_message=message[:255],
        heartbeat_at=timezone.now(),
    )
    if not updated:
        raise JobCancelled(str(job_id))
    events.publish_change(job_id=job_id)


def _result_name(job: Job, run_token: uuid.UUID, output: ImageOutput) -> str:
    return f"results/{job.vendor_id}/{job.pk}/{run_token.hex}.{output.extension}"


def job_succeed(*, job: Job, run_token: uuid.UUID, output: ImageOutput) -> bool:
    """Store the output and apply it, once: only the current run of a running job may."""
    name = default_storage.save(_result_name(job, run_token, output), ContentFile(output.data))
    result = {"name": name, "content_type": output.content_type, "width": output.width, "height": output.height}
    now = timezone.now()
    with transaction.atomic():
        applied = _transition(
            job.pk,
            JobState.SUCCEEDED,
            held_by=run_token,
            result=result,
            finished_at=now,
            progress_percent=100,
            progress_stage="done",
            progress_message="",
            error_code="",
            error_message="",
        )
        if applied and job.record_id and output.is_image:  # JSON (labels) is not a processed image
            Record.objects.filter(pk=job.record_id).update(
                processed=name, processed_content_type=output.content_type, processed_at=now
            )
    if applied:
        _announce_finished(job.pk, JobState.SUCCEEDED)
    else:
        default_storage.delete(name)  # cancelled meanwhile, or another run won
    return applied


def _announce_finished(job_id: uuid.UUID, state: str) -> None:
    def send() -> None:
        job = Job.objects.filter(pk=job_id).select_related("vendor").first()
        if job is not None:
            signals.job_finished.send(sender=Job, job=job, state=state)

    transaction.on_commit(send)


def _backoff_s(job: Job) -> float:
    policy = get_processor(job.kind).retry
    base = settings.JOB_RETRY_BASE_S.get(job.kind, policy.base_s)
    delay = min(policy.max_s, base * 2 ** max(0, job.attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def job_fail(*, job: Job, run_token: uuid.UUID, error: JobError, traceback: str = "") -> str:
    """Record a failed attempt: queue it again if it may be retried, else end it failed.
    Returns the job's new state (or its current one if this run no longer holds it)."""
    job.refresh_from_db(fields=["attempts", "attempt_errors"])
    now = timezone.now()
    entry = {"attempt": job.attempts, "code": error.code, "message": error.message, "at": now.isoformat()}
    common = dict(
        error_code=error.code,
        error_message=error.message,
        error_traceback=traceback,
        attempt_errors=[*job.attempt_errors, entry],
        run_token=None,
    )
    if error.retryable and job.attempts < job.max_attempts:
        delay = max(_backoff_s(job), getattr(error, "retry_after_s", None) or 0)
        if _transition(
            job.pk,
            JobState.QUEUED,
            held_by=run_token,
            dispatched_at=None,
            not_before=now + timedelta(seconds=delay),
            progress_stage="waiting_retry",
            progress_message=f"attempt {job.attempts} failed; retrying in {delay:.0f} s",
            **common,
        ):
            logger.warning(
                "job %s of vendor %s attempt %s failed (%s): %s; retrying",
                job.pk,
                job.vendor_id,
                job.attempts,
                error.code,
                error.message,
                extra={"job_id": str(job.pk), "vendor": job.vendor_id, "kind": job.kind, "attempt": job.attempts},
            )
            events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
            return JobState.QUEUED
    elif _transition(job.pk, JobState.FAILED, held_by=run_token, finished_at=now, progress_stage="failed", **common):
        _announce_finished(job.pk, JobState.FAILED)
        logger.error(
            "job %s of vendor %s failed after %s attempt(s) (%s): %s",
            job.pk,
            job.vendor_id,
            job.attempts,
            error.code,
            error.message,
            extra={"job_id": str(job.pk), "vendor": job.vendor_id, "kind": job.kind, "attempt": job.attempts},
        )
        return JobState.FAILED
    return Job.objects.values_list("state", flat=True).get(pk=job.pk)


def job_cancel(*, job: Job) -> bool:
    """A waiting job never runs; a running one stops at its next stage boundary."""
    if job.state not in sources_of(JobState.CANCELLED):
        raise InvalidTransition(job.state, JobState.CANCELLED)
    cancelled = _transition(
        job.pk, JobState.CANCELLED, finished_at=timezone.now(), run_token=None, progress_stage="cancelled"
    )
    if cancelled:
        _announce_finished(job.pk, JobState.CANCELLED)
        batch_finish_if_done(batch_id=job.batch_id)
    return cancelled


# What a job run again starts from: queued, no attempts, no trace of earlier runs but their log.
_FRESH_RUN = dict(
    state=JobState.QUEUED,
    attempts=0,
    dispatched_at=None,
    not_before=None,
    finished_at=None,
    started_at=None,
    progress_percent=0,
    progress_stage="",
    progress_message="",
    error_code="",
    error_message="",
    error_traceback="",
)


def job_retry(*, job: Job) -> bool:
    """Run a failed or cancelled job again, with a fresh set of attempts."""
    if job.state not in FINISHED - {JobState.SUCCEEDED}:
        raise InvalidTransition(job.state, JobState.QUEUED)
    retried = Job.objects.filter(pk=job.pk, state__in=FINISHED - {JobState.SUCCEEDED}).update(**_FRESH_RUN) == 1
    if retried:
        transaction.on_commit(lambda: dispatch.request_dispatch(kinds=[job.kind]))
        events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
    return retried


def job_postpone(*, job_id: uuid.UUID, seconds: float, reason: str) -> bool:
    """Take a queued job back from Dramatiq for a while (its kind's rate limit is reached);
    the dispatcher hands it over again once `seconds` have passed."""
    postponed = (
        Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
            dispatched_at=None,
            not_before=timezone.now() + timedelta(seconds=seconds),
            progress_stage="waiting",
            progress_message=reason[:255],
        )
        == 1
    )
    if postponed:
        events.publish_change(job_id=job_id)
    return postponed


def job_set_priority(*, job: Job, priority: str | int) -> bool:
    """Change the priority of a job that has not been handed to a worker yet."""
    value = _resolve_priority(vendor=job.vendor, priority=priority)
    return Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(priority=value) == 1


# Bulk forms of the above for operators acting on thousands of jobs at once: CHUNK rows per
# statement, and one admission pass at the end rather than one per job.


def _chunks(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def jobs_cancel(*, job_ids: list[uuid.UUID]) -> int:
    """Cancel those of the jobs that have not finished. Returns how many were cancelled."""
    sources = sources_of(JobState.CANCELLED)
    cancelled = 0
    batch_ids: set[uuid.UUID] = set()
    for chunk in _chunks(job_ids):
        stamp = timezone.now()  # tells the rows this call cancelled from ones cancelled before
        cancelled += Job.objects.filter(pk__in=chunk, state__in=sources).update(
            state=JobState.CANCELLED, finished_at=stamp, run_token=None, progress_stage="cancelled"
        )
        for job_id, batch_id in Job.objects.filter(
            pk__in=chunk, state=JobState.CANCELLED, finished_at=stamp
        ).values_list("pk", "batch_id"):
            _announce_finished(job_id, JobState.CANCELLED)
            batch_ids.add(batch_id)
    for batch_id in batch_ids - {None}:
        batch_finish_if_done(batch_id=batch_id)
    return cancelled


def jobs_retry(*, job_ids: list[uuid.UUID]) -> int:
    """Run those of the jobs that failed or were cancelled again, each with a fresh set of
    attempts. Returns how many were queued again."""
    sources = FINISHED - {JobState.SUCCEEDED}
    retried = 0
    kinds: set[str] = set()
    for chunk in _chunks(job_ids):
        rows = Job.objects.filter(pk__in=chunk, state__in=sources)
        kinds.update(rows.order_by().values_list("kind", flat=True).distinct())
        retried += rows.update(**_FRESH_RUN)
    if retried:
        transaction.on_commit(lambda: dispatch.request_dispatch(kinds=sorted(kinds)))
    return retried


def jobs_set_priority(*, job_ids: list[uuid.UUID], priority: str | int) -> int:
    """Change the priority of those of the jobs still waiting. Returns how many changed."""
    try:
        value = Priority(priority) if isinstance(priority, int) else Priority.from_label(priority)
    except ValueError as exc:
        raise InvalidParams(str(exc), code="invalid_priority") from None
    return sum(
        Job.objects.filter(pk__in=chunk, state=JobState.QUEUED).update(priority=value) for chunk in _chunks(job_ids)
    )


# Housekeeping: stalled and lost jobs back in line; finished jobs removed after a while.


def jobs_recover_stalled() -> int:
    """Running jobs without a heartbeat for JOB_STALL_TIMEOUT_S go back to the queue; queued
    jobs handed to Dramatiq that no worker started in that time are handed over again."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALL_TIMEOUT_S)
    stalled = Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=cutoff)
    recovered = 0
    for job_id, vendor_id, batch_id in list(stalled.values_list("pk", "vendor_id", "batch_id")):
        if Job.objects.filter(pk=job_id, state=JobState.RUNNING, heartbeat_at__lt=cutoff).update(
            state=JobState.QUEUED, run_token=None, dispatched_at=None, progress_stage="requeued_after_stall"
        ):
            recovered += 1
            events.publish_change(job_id=job_id, batch_id=batch_id, vendor_id=vendor_id)
            logger.warning(
                "job %s of vendor %s stalled (no heartbeat since before %s); queued again",
                job_id,
                vendor_id,
                cutoff.isoformat(),
                extra={"job_id": str(job_id), "vendor": vendor_id},
            )
    lost = Job.objects.filter(state=JobState.QUEUED, dispatched_at__lt=cutoff).update(dispatched_at=None)
    return recovered + lost


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
