"""Job metrics recorded by the workers where a run ends (runner.py): counters and histograms that
Prometheus can rate(). prometheus_client runs in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set
by settings before it is imported): each process writes its own files, and /metrics
(processing/ops/metrics.py) and Dramatiq's worker port sum them up, so they survive a scrape
landing on another process and add up across threads and processes.

- `darkroom_job_attempts_total{kind}`: runs started (first attempts and retries).
- `darkroom_job_outcomes_total{kind,outcome,vendor}`: how each run ended (OUTCOMES).
- `darkroom_job_errors_total{kind,code}`: runs that ended in an error, retried or not.
- `darkroom_job_duration_seconds{kind,outcome}`: run time of one attempt.
- `darkroom_job_wait_seconds{kind}`: from a job's creation to the start of its first run.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from processing.jobs.models import Job

DURATION_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
WAIT_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

SUCCEEDED, FAILED, RETRIED, CANCELLED = "succeeded", "failed", "retried", "cancelled"
# The run lost its job meanwhile (cancelled, or taken over after a stall): its result was dropped.
DROPPED = "dropped"
# The run could not record its end (the database down, say); Dramatiq delivers the message again.
ABORTED = "aborted"
OUTCOMES = (SUCCEEDED, FAILED, RETRIED, CANCELLED, DROPPED, ABORTED)

attempts = Counter("darkroom_job_attempts", "Job runs started by workers.", ["kind"])
outcomes = Counter("darkroom_job_outcomes", "How job runs ended.", ["kind", "outcome", "vendor"])
errors = Counter("darkroom_job_errors", "Job runs that ended in an error, by code.", ["kind", "code"])
duration = Histogram(
    "darkroom_job_duration_seconds", "Run time of one attempt.", ["kind", "outcome"], buckets=DURATION_BUCKETS_S
)
wait = Histogram(
    "darkroom_job_wait_seconds", "From a job's creation to its first run.", ["kind"], buckets=WAIT_BUCKETS_S
)


def run_started(*, job: Job) -> None:
    attempts.labels(job.kind).inc()
    if job.attempts == 1 and job.started_at and job.created_at:
        wait.labels(job.kind).observe(max(0.0, (job.started_at - job.created_at).total_seconds()))


def run_ended(*, job: Job, outcome: str, seconds: float, error_code: str = "") -> None:
    outcomes.labels(job.kind, outcome, job.vendor.slug).inc()
    duration.labels(job.kind, outcome).observe(seconds)
    if error_code:
        errors.labels(job.kind, error_code).inc()
