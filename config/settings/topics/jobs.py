"""Jobs: the kinds, their limits, retries, leases, retention, usage and admission."""

from config.env import env, per_kind

# --- Jobs.
# Each module defines PROCESSOR: its kind, queue, parameters, inputs and retry policy.
DARKROOM_PROCESSORS = [
    "processing.jobs.kinds.remove_bg",
    "processing.jobs.kinds.face_crop",
    "processing.jobs.kinds.transform",
    "processing.jobs.kinds.pipeline",
    "processing.jobs.kinds.ai_endpoint",
]
# Most jobs one batch may hold, from the API's bulk requests and the portal's "start on all".
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=1000)
# Most bytes of a job's params as compact JSON: options, not payloads.
JOB_PARAMS_MAX_BYTES = env.int("JOB_PARAMS_MAX_BYTES", default=16 * 1024)
# Global throughput per kind, shared by every worker through Redis, e.g. "remote_ai=10".
JOB_RATE_LIMITS_PER_S = per_kind("JOB_RATE_LIMITS_PER_S", int, {})
# How long a worker thread waits for a rate-limit slot before handing the job back for later.
JOB_RATE_LIMIT_WAIT_S = env.float("JOB_RATE_LIMIT_WAIT_S", default=5)
# Retry backoff base per kind (seconds); attempt n waits about base * 2**(n-1), with jitter.
JOB_RETRY_BASE_S = per_kind("JOB_RETRY_BASE_S", float, {})
JOB_TIME_LIMIT_S = env.int("JOB_TIME_LIMIT_S", default=300)
# Media storage full or unreachable while a result is written (processing/lib/outages.py
# storage_fault): the job waits and tries again, JOB_STORAGE_RETRY_BASE_S * 2**n (at most
# JOB_STORAGE_RETRY_MAX_S) after its n-th wait, and the attempt is given back. A separate budget
# of JOB_STORAGE_WAITS waits (2+4+...+60: about 8 minutes by default); past it, storage failures
# count as attempts like any retryable error.
JOB_STORAGE_RETRY_BASE_S = env.float("JOB_STORAGE_RETRY_BASE_S", default=2)
JOB_STORAGE_RETRY_MAX_S = env.float("JOB_STORAGE_RETRY_MAX_S", default=60)
JOB_STORAGE_WAITS = env.int("JOB_STORAGE_WAITS", default=12)
# A running job's lease (processing/engine/leases.py): its worker process renews it every
# JOB_LEASE_RENEW_S whatever the job does; a job whose lease ran out (its worker died or froze)
# is taken back, which counts as an attempt. A step may take any time up to JOB_TIME_LIMIT_S.
JOB_LEASE_S = env.float("JOB_LEASE_S", default=30)
JOB_LEASE_RENEW_S = env.float("JOB_LEASE_RENEW_S", default=2)
# A job handed to Dramatiq whose message is no longer in Redis (nor in a live worker's hands) is
# handed over again: looked for every LOST_MESSAGE_CHECK_S among jobs dispatched that long ago.
LOST_MESSAGE_CHECK_S = env.float("LOST_MESSAGE_CHECK_S", default=5)
# The same, by age alone, on a broker that cannot be looked into (tests' stub broker).
JOB_STALL_TIMEOUT_S = env.int("JOB_STALL_TIMEOUT_S", default=120)
# Retention: finished jobs are removed after these many hours, checked on this cron schedule.
JOB_RETENTION_SUCCEEDED_H = env.float("JOB_RETENTION_SUCCEEDED_H", default=24)
JOB_RETENTION_FAILED_H = env.float("JOB_RETENTION_FAILED_H", default=7 * 24)
JOB_RETENTION_CRON = env("JOB_RETENTION_CRON", default="0 */6 * * *")
# A result file a run may have left (its worker died, or it ran on after its record was
# deleted) is removed by the retention run this long after the run was given up (seconds).
RESULT_ORPHAN_GRACE_S = env.int("RESULT_ORPHAN_GRACE_S", default=3600)
# Each retention run deletes at most this many records past their vendor's retention (and of
# projects whose background deletion stopped), and removes at most this many files of the
# deletion journal (docs/data.md); what is left waits for the next run.
RETENTION_RECORDS_PER_RUN = env.int("RETENTION_RECORDS_PER_RUN", default=20_000)
STORAGE_DELETIONS_PER_RUN = env.int("STORAGE_DELETIONS_PER_RUN", default=100_000)
# The usage ledger (docs/usage.md). Off only to measure what it costs (make bench): billing reads it.
USAGE_LEDGER = env.bool("USAGE_LEDGER", default=True)
# The usage ledger outlives jobs. When a vendor is deleted its rows are kept under
# its slug ("keep"), kept under a pseudonym ("pseudonymise") or removed ("delete").
USAGE_ON_VENDOR_DELETE = env("USAGE_ON_VENDOR_DELETE", default="keep")
if USAGE_ON_VENDOR_DELETE not in {"keep", "pseudonymise", "delete"}:
    raise ValueError(f"USAGE_ON_VENDOR_DELETE must be keep, pseudonymise or delete, not {USAGE_ON_VENDOR_DELETE!r}")
# When the scheduler samples each vendor's stored bytes into the ledger (UTC cron).
USAGE_STORAGE_SAMPLE_CRON = env("USAGE_STORAGE_SAMPLE_CRON", default="55 23 * * *")
# A vendor's export (a ZIP of its photos, results and manifest) can be downloaded this many hours
# after it is ready; the retention run then removes it from storage (docs/data.md, "Export").
EXPORT_TTL_HOURS = env.float("EXPORT_TTL_HOURS", default=72)
# Admission control: messages of a kind handed to Dramatiq and not yet finished. Size it to the
# worker threads serving that queue across the fleet, plus a little so threads never idle.
JOB_QUEUE_CAPACITY = per_kind("JOB_QUEUE_CAPACITY", int, {"remove_bg": 4, "face_crop": 4, "transform": 8})
JOB_QUEUE_CAPACITY_DEFAULT = env.int("JOB_QUEUE_CAPACITY_DEFAULT", default=4)
# How often each worker admits waiting jobs whose retry delay has passed and recovers stalled ones.
DISPATCH_TICK_S = env.float("DISPATCH_TICK_S", default=1.0)
# Worker registry (processing/engine/registry.py): each worker process beats this often; the admin shows
# a worker silent for longer than WORKER_LOST_AFTER_S as lost, and forgets it (its record expires)
# once silent for WORKER_RECORD_TTL_S: a worker replaced by a restart is not listed for a day.
WORKER_HEARTBEAT_S = env.float("WORKER_HEARTBEAT_S", default=5.0)
WORKER_LOST_AFTER_S = env.float("WORKER_LOST_AFTER_S", default=30.0)
WORKER_RECORD_TTL_S = env.int("WORKER_RECORD_TTL_S", default=15 * 60)

# With the database or Redis away, every request answers 503 with this Retry-After (seconds).
OUTAGE_RETRY_AFTER_S = env.int("OUTAGE_RETRY_AFTER_S", default=5)
