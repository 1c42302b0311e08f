"""Runs one job inside a worker: read the input, process it, store and apply the result."""

from __future__ import annotations

import logging
import time
import traceback
import uuid

from django.conf import settings
from django.db import DatabaseError
from dramatiq.middleware import TimeLimitExceeded
from redis.exceptions import RedisError

from processing.engine import leases, maintenance, metrics
from processing.engine.rate_limits import acquire_slots
from processing.jobs import selectors, services
from processing.jobs.ai.budget import ai_tokens_spend
from processing.jobs.errors import InternalFault
from processing.jobs.kinds import InputLimits, get_processor
from processing.jobs.log_fields import job_log_fields
from processing.jobs.models import Job
from processing.jobs.outbound import url_input_policy
from processing.jobs.states import JobState
from processing.lib.errors import InternalError, ProcessingError, TemporaryError
from processing.lib.http.fetch import fetch_image
from processing.lib.logcontext import job_log_context

logger = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.25


def _read_input(job: Job) -> bytes:
    if job.input_url:
        return fetch_image(
            job.input_url,
            policy=url_input_policy(),
            max_bytes=settings.IMAGE_MAX_BYTES,
            timeout_s=settings.IMAGE_FETCH_TIMEOUT_S,
        )
    if job.record_id is None and "none" in get_processor(job.kind).inputs:
        return b""  # a kind that works from its parameters alone, e.g. a prompt
    if job.record is None or not job.record.original:
        raise ProcessingError("the job's input record no longer exists", code="input_missing")
    with job.record.original.open("rb") as handle:
        return handle.read()


def job_run(*, job_id: str, kind: str, dispatch: int | None = None) -> None:
    # The global rate limits are taken before the job starts, so started_at is honest: the
    # kind's own, and one of each step's kind (a pipeline's ai_endpoint steps count as ai_endpoint).
    steps = [step for step in selectors.ops_job_step_kinds(job_id=job_id, kind=kind) if step != kind]
    busy = acquire_slots([kind, *steps], wait_s=settings.JOB_RATE_LIMIT_WAIT_S)
    if busy is not None:
        services.job_postpone(
            job_id=uuid.UUID(job_id), seconds=1.0, reason=f"waiting for the {busy} rate limit", dispatch=dispatch
        )
        return
    job = services.job_start(job_id=uuid.UUID(job_id), dispatch=dispatch)
    if job is None:
        return  # finished, cancelled, running, or this message is not the job's latest: nothing to do
    # From here until the run ends, this process's renewal thread keeps the job's lease.
    leases.hold(job.pk, job.run_token)
    try:
        _run(job)
    finally:
        leases.release(job.pk)


def _run(job: Job) -> None:
    metrics.run_started(job=job)
    # Every log line of the run, from any logger, carries job id, vendor, kind and attempt.
    with job_log_context(job_log_fields(job)):
        started = time.monotonic()
        outcome, error_code = metrics.ABORTED, "internal_error"  # unless _execute answers
        try:
            outcome, error_code = _execute(job)
        finally:
            metrics.run_ended(job=job, outcome=outcome, seconds=time.monotonic() - started, error_code=error_code)
            # A slot is free: this process's maintenance thread admits, one pass for many ends.
            maintenance.admit_after_finish(job.kind)


# What a failed run's job became, as the run's outcome.
FAILED_OUTCOMES = {JobState.QUEUED: metrics.RETRIED, JobState.FAILED: metrics.FAILED}


def _failed(job: Job, token: uuid.UUID, error: ProcessingError) -> tuple[str, str]:
    ai_tokens_spend(vendor=job.vendor, ai_usage=error.ai_usage)
    state = services.job_fail(job=job, run_token=token, error=error, traceback=traceback.format_exc())
    return FAILED_OUTCOMES.get(state, metrics.DROPPED), error.code


def _execute(job: Job) -> tuple[str, str]:
    """Runs the job; answers the run's outcome (engine/metrics.py) and its error code, if any."""
    token = job.run_token
    try:
        processor = get_processor(job.kind)
        last_report = time.monotonic()

        def progress(stage: str, percent: int, message: str = "") -> None:
            # A write per report would dominate short jobs; one every PROGRESS_INTERVAL_S is
            # enough to watch progress, beat the heart and notice a cancel.
            nonlocal last_report
            if time.monotonic() - last_report < PROGRESS_INTERVAL_S:
                return
            last_report = time.monotonic()
            services.job_report_progress(job_id=job.pk, run_token=token, stage=stage, percent=percent, message=message)

        progress("downloading", 5, "reading the input image")
        data = _read_input(job)
        progress("processing", 20, f"running {job.kind}")
        output = processor.run(
            data,
            job.run_params,
            limits=InputLimits(settings.IMAGE_MAX_BYTES, settings.IMAGE_MAX_PIXELS),
            progress=progress,
        )
        # Spent whatever becomes of the result (a cancel meanwhile, a storage outage).
        ai_tokens_spend(vendor=job.vendor, ai_usage=output.usage)
        progress("uploading", 80, "storing the result")
        if services.job_succeed(job=job, run_token=token, output=output, input_bytes=len(data or b"")):
            logger.info("job %s succeeded", job.pk)
            return metrics.SUCCEEDED, ""
        logger.info("job %s was cancelled (or taken over) as it finished; result dropped", job.pk)
        return metrics.DROPPED, ""
    except services.JobCancelled:
        logger.info("job %s cancelled while running; stopped, result dropped", job.pk)
        return metrics.CANCELLED, ""
    except ProcessingError as exc:
        return _failed(job, token, exc)
    except TimeLimitExceeded:
        return _failed(
            job, token, TemporaryError(f"the job ran longer than {settings.JOB_TIME_LIMIT_S} s", code="time_limit")
        )
    except Exception as exc:  # nothing we foresaw: a bug, or an outage
        return _failed(job, token, _unforeseen(job, exc))


# What an outage raises: another attempt may pass. Anything else unforeseen is taken for a bug.
_OUTAGES = (OSError, DatabaseError, RedisError)


def _unforeseen(job: Job, exc: Exception) -> ProcessingError:
    """A bug is not an outage. An outage is retried like any passing fault. A bug that meets the
    job again in the same place, or on its last attempt, ends it: job_fail tells operators once,
    with the traceback, and gives the vendor's charge back; the vendor reads that it was ours."""
    fault = _fault(exc)
    bug_again = not isinstance(exc, _OUTAGES) and any(
        entry.get("code") == InternalFault.code and entry.get("detail") == fault for entry in job.attempt_errors
    )
    if bug_again or job.attempts >= job.max_attempts:
        return InternalFault("internal error", detail=fault)
    return InternalError("internal error", detail=fault)


def _fault(exc: Exception) -> str:
    """The exception and where it was raised: the same bug gives the same text every time."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
