"""Every change of a job's or batch's state, split by concern. Each change is a compare-and-set
on the row, so it holds across many web and worker processes and on SQLite, which has no row
locks. Callers use `from processing.jobs import services` and the names below."""

from processing.jobs.services.control import (
    batch_cancel,
    batch_retry_failed,
    job_cancel,
    job_retry,
    job_set_priority,
    jobs_cancel,
    jobs_retry,
    jobs_set_priority,
)
from processing.jobs.services.creation import batch_create, check_upload, job_create, one_input_check
from processing.jobs.services.deletion import (
    DeletedRecords,
    ProjectAlreadyDeleting,
    project_delete_start,
    project_deletion_run,
    project_deletions_resume,
    records_delete,
    records_expire,
)
from processing.jobs.services.exports import (
    ExportGone,
    ExportInProgress,
    ExportNotReady,
    export_build,
    export_open,
    export_start,
    exports_discard,
    exports_expire,
)
from processing.jobs.services.housekeeping import (
    PurgeReport,
    jobs_purge_finished,
    jobs_recover_stalled,
    jobs_requeue_lost,
    storage_sweep,
)
from processing.jobs.services.idempotency import (
    IdempotencyKeyInProgress,
    IdempotencyKeyMismatch,
    idempotency_key_claim,
    idempotency_key_release,
)
from processing.jobs.services.runs import (
    job_fail,
    job_postpone,
    job_report_progress,
    job_start,
    job_succeed,
    jobs_promote_due,
    jobs_renew_leases,
)
from processing.jobs.services.transitions import CHUNK, JobCancelled, batch_finish_if_done

__all__ = [
    "CHUNK",
    "IdempotencyKeyInProgress",
    "IdempotencyKeyMismatch",
    "JobCancelled",
    "ExportGone",
    "ExportInProgress",
    "ExportNotReady",
    "PurgeReport",
    "batch_cancel",
    "batch_create",
    "batch_retry_failed",
    "batch_finish_if_done",
    "check_upload",
    "export_build",
    "export_open",
    "export_start",
    "exports_discard",
    "exports_expire",
    "idempotency_key_claim",
    "idempotency_key_release",
    "job_cancel",
    "job_create",
    "job_fail",
    "job_postpone",
    "job_report_progress",
    "job_retry",
    "job_set_priority",
    "job_start",
    "job_succeed",
    "jobs_cancel",
    "jobs_promote_due",
    "jobs_purge_finished",
    "jobs_recover_stalled",
    "jobs_renew_leases",
    "jobs_requeue_lost",
    "jobs_retry",
    "jobs_set_priority",
    "one_input_check",
    "storage_sweep",
    "DeletedRecords",
    "ProjectAlreadyDeleting",
    "project_delete_start",
    "project_deletion_run",
    "project_deletions_resume",
    "records_delete",
    "records_expire",
]
