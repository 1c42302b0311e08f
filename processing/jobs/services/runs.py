"""A worker's run of a job: start, progress, success, failure, postponement. Only the run that holds
the job (its run token) may record anything."""

from __future__ import annotations

import json
import logging
import random
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from processing.jobs import events, usage
from processing.jobs.errors import InternalFault, public_message
from processing.jobs.kinds import get_processor
from processing.jobs.log_fields import job_log_fields
from processing.jobs.models import Job, Lane
from processing.jobs.refunds import job_refund_if_ours
from processing.jobs.selectors.held import job_held
from processing.jobs.services.transitions import (
    CHUNK,
    JobCancelled,
    announce_finished,
    batch_finish_if_done,
    finish_run,
    retried_when_transient,
    transition,
)
from processing.jobs.states import JobState
from processing.lib.errors import ProcessingError, StorageUnavailable
from processing.lib.imaging.output import JSON_CONTENT_TYPE, ImageOutput
from processing.lib.imaging.thumbnail import is_preview_sized
from processing.lib.media import private_part
from processing.lib.outages import storage_fault
from vendors import services as vendor_services
from vendors.quotas import StorageQuotaExceeded
from vendors.storage_journal import storage_deletions_journal
from vendors.thumbnails import preview_discard

logger = logging.getLogger(__name__)


def job_start(*, job_id: uuid.UUID, dispatch: int | None = None) -> Job | None:
    """Take a queued job for this worker, with a fresh lease. None if it is finished, cancelled,
    running elsewhere, or `dispatch` (the message's dispatch count) is not the job's latest: a
    message sent before the job was handed over again must not start it. One UPDATE and one
    SELECT, which, filtered by the new token, proves we hold it. A job whose worker died is not
    taken here but by the lease sweep (jobs_recover_stalled), which counts the lost attempt."""
    now = timezone.now()
    token = uuid.uuid4()
    rows = Job.objects.filter(pk=job_id, state=JobState.QUEUED)
    if dispatch is not None:
        rows = rows.filter(lane=Lane.IN_FLIGHT, dispatches=dispatch)
    taken = retried_when_transient(rows.update)(
        state=JobState.RUNNING,
        lane=Lane.IN_FLIGHT,
        run_token=token,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_S),
        progress_stage="starting",
        progress_percent=0,
        progress_message="",
    )
    if not taken:
        return None
    job = job_held(job_id=job_id, run_token=token)
    if job is not None:
        events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
    return job


def jobs_renew_leases(*, held: dict[uuid.UUID, uuid.UUID]) -> int:
    """Extend the leases of the running jobs a worker process holds ({job id: run token}): one
    UPDATE for all of them. Returns how many it still holds (a cancelled or taken-back job is
    not renewed; its run finds out at its next report)."""
    if not held:
        return 0
    expires = timezone.now() + timedelta(seconds=settings.JOB_LEASE_S)
    rows = Job.objects.filter(pk__in=list(held), run_token__in=list(held.values()), state=JobState.RUNNING)
    return retried_when_transient(rows.update)(lease_expires_at=expires)


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


def _result_name(job: Job, output: ImageOutput) -> str:
    # The job's folder (the orphan sweep reads it), then 128 random bits (processing/lib/media.py).
    return f"results/{job.vendor_id}/{job.pk}/{private_part()}.{output.extension}"


def job_succeed(*, job: Job, run_token: uuid.UUID, output: ImageOutput, input_bytes: int = 0) -> bool:
    """Store the output and apply it, once: only the current run of a running job may; the run
    that applies it counts it in the usage ledger (`input_bytes`: what the run read). No file
    without its row: a failed write leaves nothing (not even an empty file), and a file whose
    row update failed is removed, unless the database cannot say whether the update was made
    (then the orphan sweep, jobs_purge_finished, removes it if no row names it)."""
    intended = _result_name(job, output)
    try:
        name = default_storage.save(intended, ContentFile(output.data))
    except Exception as exc:
        _delete_quietly(intended)
        if fault := storage_fault(exc):  # full or unreachable: an outage the job waits out
            raise StorageUnavailable("the result storage is unavailable", detail=fault) from exc
        raise
    result = {"name": name, "content_type": output.content_type, "width": output.width, "height": output.height}
    result.update(_answer_fields(output))
    now = timezone.now()
    record_fields = (  # JSON (labels) is not a processed image
        dict(processed=name, processed_content_type=output.content_type, processed_at=now) if output.is_image else None
    )
    if record_fields and is_preview_sized(output.width, output.height):
        record_fields["processed_thumbnail"] = name  # its own preview: no preview job (engine/thumbnails.py)
    generated = _generated_record(job, output)
    try:
        finished = finish_run(
            job,
            JobState.SUCCEEDED,
            held_by=run_token,
            counts=usage.succeeded(
                vendor_id=job.vendor_id,
                kind=job.kind,
                params=job.run_params,
                started_at=job.started_at,
                now=now,
                input_bytes=input_bytes,
                output_bytes=len(output.data),
                ai_usage=output.usage,
            ),
            record_fields=record_fields,
            **({"record_id": generated.pk} if generated else {}),
            result=result,
            finished_at=now,
            progress_percent=100,
            progress_stage="done",
            progress_message="",
            error_code="",
            error_message="",
        )
    except Exception:
        try:
            made = Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED, run_token=run_token).exists()
        except Exception:
            made = True  # unknown: keep the file for the sweep rather than break a result
        if not made:
            _delete_quietly(name, vendor_id=job.vendor_id)
            _forget_generated(generated)
        raise
    if finished:
        if record_fields and "processed_thumbnail" in record_fields and job.record is not None:
            preview_discard(name=job.record.processed_thumbnail.name)  # the earlier result's, as read at start
        if generated is not None:
            job.record_id = generated.pk
        job.state, job.result, job.finished_at = JobState.SUCCEEDED, result, now
        job.progress_percent, job.progress_stage, job.progress_message = 100, "done", ""
        job.error_code = job.error_message = ""
        announce_finished(job.pk, JobState.SUCCEEDED, job=job)
        if finished.batch_may_be_complete:
            batch_finish_if_done(batch_id=job.batch_id)
    else:
        # Cancelled meanwhile (its record deleted, say), or another run won: never applied.
        _delete_quietly(name, vendor_id=job.vendor_id)
        _forget_generated(generated)
    return finished is not None


def _generated_record(job: Job, output: ImageOutput):
    """An image made from a prompt alone (no input) for a project becomes a record of it, with
    previews like an upload (its original is the generated image). None otherwise, or when it
    does not fit the vendor's storage quota (the job's result still holds the image)."""
    if not output.is_image or job.record_id is not None or job.input_url or job.project_id is None:
        return None
    upload = SimpleUploadedFile(
        f"generated-{job.pk.hex[:8]}.{output.extension}", output.data, content_type=output.content_type
    )
    try:
        with transaction.atomic():
            return vendor_services.record_create(project=job.project, upload=upload)
    except (StorageQuotaExceeded, ProcessingError) as exc:
        logger.warning(
            "job %s of vendor %s: the generated image is not kept as a record: %s", job.pk, job.vendor_id, exc
        )
        return None


def _forget_generated(record) -> None:
    if record is not None:
        record.delete()


# A JSON answer up to this size is kept on the job's row too, so the API shows it inline.
ANSWER_INLINE_MAX_BYTES = 64 * 1024


def _answer_fields(output: ImageOutput) -> dict:
    """What the job's result keeps beside the file: an AI answer (JSON, when small enough) and
    `usage`, what the AI service counted (provider, endpoint, model, calls, tokens): the field the
    usage ledger reads (selectors.job_ai_usage)."""
    fields = {}
    if output.content_type == JSON_CONTENT_TYPE and len(output.data) <= ANSWER_INLINE_MAX_BYTES:
        fields["answer"] = json.loads(output.data)
    if output.usage is not None:
        fields["usage"] = output.usage
    return fields


def _delete_quietly(name: str, *, vendor_id: int | None = None) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # storage away too: the deletion journal's sweep removes it later
        logger.warning("could not remove the unapplied result file %s", name, exc_info=True)
        try:
            storage_deletions_journal(names=[name], vendor_id=vendor_id)
        except Exception:  # the database away as well: the run's lease sweep notes its files
            logger.warning("could not note %s in the deletion journal", name, exc_info=True)


def _backoff_s(job: Job) -> float:
    policy = get_processor(job.kind).retry
    base = settings.JOB_RETRY_BASE_S.get(job.kind, policy.base_s)
    delay = min(policy.max_s, base * 2 ** max(0, job.attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def job_fail(*, job: Job, run_token: uuid.UUID, error: ProcessingError, traceback: str = "") -> str:
    """Record a failed attempt: queue it again if it may be retried, else end it failed.
    Returns the job's new state (or its current one if this run no longer holds it). `job` is
    as job_start read it: nobody else changes its attempts while this run holds the token."""
    now = timezone.now()
    # The vendor reads `message` (error_message, the API, the portal, webhooks); operators read
    # `detail` in the log lines below (with job id and vendor) and in the admin.
    message = public_message(error)
    entry = {"attempt": job.attempts, "code": error.code, "message": message, "at": now.isoformat()}
    if error.detail != message:
        entry["detail"] = error.detail
    common = dict(
        error_code=error.code,
        error_message=message,
        error_traceback=f"{error.detail}\n\n{traceback}".strip() if error.detail != message else traceback,
        attempt_errors=[*job.attempt_errors, entry],
        run_token=None,
    )
    if error.code == StorageUnavailable.code and _storage_waits(job) < settings.JOB_STORAGE_WAITS:
        return _wait_for_storage(job, run_token, error, common)
    if error.retryable and job.attempts < job.max_attempts:
        delay = max(_backoff_s(job), getattr(error, "retry_after_s", None) or 0)
        if transition(
            job.pk,
            JobState.QUEUED,
            held_by=run_token,
            dispatched_at=None,
            not_before=now + timedelta(seconds=delay),
            progress_stage="waiting_retry",
            progress_message=f"attempt {job.attempts} failed; retrying in {delay:.0f} s",
            **common,
        ):
            # The AI calls this attempt had answered were paid for: counted by the run that moved it.
            if spent := usage.ai_spent(vendor_id=job.vendor_id, kind=job.kind, now=now, ai_usage=error.ai_usage):
                usage.usage_add(counts=spent)
            logger.warning(
                "job %s of vendor %s attempt %s failed (%s): %s; retrying",
                job.pk,
                job.vendor_id,
                job.attempts,
                error.code,
                error.detail,
                extra=job_log_fields(job),
            )
            events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
            return JobState.QUEUED
    elif finished := finish_run(
        job,
        JobState.FAILED,
        held_by=run_token,
        counts=usage.failed(
            vendor_id=job.vendor_id, kind=job.kind, started_at=job.started_at, now=now, ai_usage=error.ai_usage
        ),
        finished_at=now,
        progress_stage="failed",
        **{name: value for name, value in common.items() if name != "run_token"},  # kept: see finish_run
    ):
        job.state, job.finished_at, job.progress_stage = JobState.FAILED, now, "failed"
        job.error_code, job.error_message, job.attempt_errors = error.code, message, common["attempt_errors"]
        refunded = job_refund_if_ours(job=job, error_code=error.code)
        announce_finished(job.pk, JobState.FAILED, job=job)
        if finished.batch_may_be_complete:
            batch_finish_if_done(batch_id=job.batch_id)
        # The one line operators must act on: a fault of ours comes with its traceback.
        logger.error(
            "job %s of vendor %s failed after %s attempt(s) (%s): %s%s%s",
            job.pk,
            job.vendor_id,
            job.attempts,
            error.code,
            error.detail,
            f"; refunded {refunded}" if refunded else "",
            f"\n{traceback}" if error.code == InternalFault.code and traceback else "",
            extra=job_log_fields(job),
        )
        return JobState.FAILED
    return Job.objects.values_list("state", flat=True).get(pk=job.pk)


def _storage_waits(job: Job) -> int:
    return sum(1 for entry in job.attempt_errors if entry.get("code") == StorageUnavailable.code)


def _wait_for_storage(job: Job, run_token: uuid.UUID, error: ProcessingError, common: dict) -> str:
    """The storage is full or unreachable: queue the job again after a backoff that outlasts a
    short outage (JOB_STORAGE_RETRY_BASE_S doubling up to JOB_STORAGE_RETRY_MAX_S) and give the
    attempt back; the waits have their own budget (JOB_STORAGE_WAITS), counted in attempt_errors."""
    waits = _storage_waits(job)
    delay = min(settings.JOB_STORAGE_RETRY_MAX_S, settings.JOB_STORAGE_RETRY_BASE_S * 2**waits)
    delay *= random.uniform(0.9, 1.1)
    if transition(
        job.pk,
        JobState.QUEUED,
        held_by=run_token,
        attempts=F("attempts") - 1,
        dispatched_at=None,
        not_before=timezone.now() + timedelta(seconds=delay),
        progress_stage="waiting_storage",
        progress_message=f"the result storage is unavailable; trying again in {delay:.0f} s",
        **common,
    ):
        logger.warning(
            "job %s of vendor %s: result storage unavailable (%s); waiting %.1f s (storage wait %s of %s, "
            "attempt not counted)",
            job.pk,
            job.vendor_id,
            error.detail,
            delay,
            waits + 1,
            settings.JOB_STORAGE_WAITS,
            extra=job_log_fields(job),
        )
        events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
        return JobState.QUEUED
    return Job.objects.values_list("state", flat=True).get(pk=job.pk)


def job_postpone(*, job_id: uuid.UUID, seconds: float, reason: str, dispatch: int | None = None) -> bool:
    """Take a queued job back from Dramatiq for a while (its kind's rate limit is reached);
    the dispatcher hands it over again once `seconds` have passed. Only the job's latest
    message (`dispatch`, when given) may."""
    rows = Job.objects.filter(pk=job_id, state=JobState.QUEUED)
    if dispatch is not None:
        rows = rows.filter(lane=Lane.IN_FLIGHT, dispatches=dispatch)
    postponed = (
        rows.update(
            lane=Lane.DEFERRED,
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


def jobs_promote_due() -> int:
    """Deferred jobs (retry backoff, rate-limit postponement) whose `not_before` has passed
    become admissible again. Reads only the due rows (index lane, not_before)."""
    # Read first, then update by key: an UPDATE over the range would lock every row it passes and
    # deadlock with workers and admission.
    due = Job.objects.filter(lane=Lane.DEFERRED, not_before__lte=timezone.now())
    return due.filter(pk__in=list(due.values_list("pk", flat=True)[:CHUNK])).update(lane=Lane.WAITING)
