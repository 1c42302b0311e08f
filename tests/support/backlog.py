"""A backlog of waiting jobs in one statement, from MariaDB's sequence table: what the admission
plan tests and bench/engine_scale.py fill the queue with (a job_create per row would take minutes
at a million)."""

from django.db import connection


def insert_waiting_jobs(*, vendor, record, kind: str, n: int, params: str = "{}") -> None:
    """n waiting jobs of `kind` for `vendor`, a day old, oldest first in sequence order; `params`
    is the JSON stored on each (job_create stores cleaned params). The table is analyzed after, so
    the plans see its new size."""
    if n <= 0:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO processing_job (id, vendor_id, record_id, kind, params, input_url, priority, state, lane,"
            " progress_percent, progress_stage, progress_message, attempts, max_attempts, error_code,"
            " error_message, error_traceback, attempt_errors, created_at)"
            " SELECT UUID(), %s, %s, %s, %s, '', 20, 'queued', 1, 0, '', '', 0, 3, '', '', '', '[]',"
            f" NOW(6) - INTERVAL 1 DAY + INTERVAL seq MICROSECOND FROM seq_1_to_{int(n)}",
            [vendor.pk, record.pk, kind, params],
        )
        cursor.execute("ANALYZE TABLE processing_job")
