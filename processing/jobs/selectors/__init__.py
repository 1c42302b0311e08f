"""Every read of jobs and batches, split by concern. Reads for vendors are scoped by a vendor;
the `ops_*` reads are for operators only. Callers use `from processing.jobs import selectors`."""

from processing.jobs.selectors.batches import (
    batch_failure_reasons,
    batch_get,
    batch_job_ids,
    batch_jobs,
    batch_jobs_of_newest_records,
    batch_list,
    batch_progress,
)
from processing.jobs.selectors.jobs import (
    job_ai_usage,
    job_filter,
    job_get,
    job_list,
    job_result_document,
    latest_jobs_by_record,
)
from processing.jobs.selectors.ops import (
    ops_batch_get,
    ops_job_counts,
    ops_job_get,
    ops_job_list,
    ops_job_step_kinds,
    ops_jobs_awaiting_start,
    ops_queue_oldest_age_s,
)
from processing.jobs.selectors.stats import (
    backlog_eta_s,
    job_eta_s,
    kind_throughput_per_s,
    queue_oldest_waiting_age_s,
    queue_stats,
    queue_throughput,
)

__all__ = [
    "backlog_eta_s",
    "batch_failure_reasons",
    "batch_get",
    "batch_job_ids",
    "batch_jobs",
    "batch_jobs_of_newest_records",
    "batch_list",
    "batch_progress",
    "job_ai_usage",
    "job_eta_s",
    "job_filter",
    "job_get",
    "job_list",
    "job_result_document",
    "kind_throughput_per_s",
    "latest_jobs_by_record",
    "ops_batch_get",
    "ops_job_counts",
    "ops_job_get",
    "ops_job_list",
    "ops_job_step_kinds",
    "ops_jobs_awaiting_start",
    "ops_queue_oldest_age_s",
    "queue_oldest_waiting_age_s",
    "queue_stats",
    "queue_throughput",
]
