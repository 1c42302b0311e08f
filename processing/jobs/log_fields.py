"""The fields a job's log lines carry (processing/lib/logcontext.py): one builder, so that a line
logged by the runner's context and one logged with `extra=` name the vendor the same way."""

from __future__ import annotations

from processing.jobs.models import Job


def job_log_fields(job: Job) -> dict[str, object]:
    """job_id, vendor (its slug), kind, attempt, and the request that created the job, if any."""
    fields: dict[str, object] = {
        "job_id": str(job.pk),
        "vendor": job.vendor.slug,
        "kind": job.kind,
        "attempt": job.attempts,
    }
    if job.request_id:  # one id from the API call to the worker
        fields["request_id"] = job.request_id
    return fields
