"""The compare-and-set every state change goes through, and what follows a change."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from processing.jobs import events, signals, usage
from processing.jobs.models import Batch, Job, lane_of
from processing.jobs.states import FINISHED, sources_of
from vendors.models import Record

T = TypeVar("T")
logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """The job was cancelled or taken from this worker: stop at the next stage boundary."""


def transition(job_id: uuid.UUID, target: str, *, held_by: uuid.UUID | None = None, **fields: Any) -> bool:
    """Move a job to `target` if its current state allows it (and, when given, the run that
    holds it is `held_by`). Returns whether this call made the change. The job's lane follows
    its state unless the caller names it."""
    rows = Job.objects.filter(pk=job_id, state__in=sources_of(target))
    if held_by is not None:
        rows = rows.filter(run_token=held_by)
    fields.setdefault("lane", lane_of(target, deferred=fields.get("not_before") is not None))
    return retried_when_transient(rows.update)(state=target, **fields) == 1


class Finished(NamedTuple):
    """A run ended by this call; whether its batch may now be complete (worth stamping)."""

    batch_may_be_complete: bool


def finish_run(
    job: Job,
    target: str,
    *,
    held_by: uuid.UUID,
    counts: list[usage.Count],
    record_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> Finished | None:
    """End the run that holds `job` in a finished state, update its record (when given), count
    it on its batch and add `counts` to the usage ledger, all or nothing: on MySQL one multi-table
    UPDATE, which usually carries the ledger's count too (_finish_run_in_one_statement). None if
    this call did not make the change, or if
    `record_fields` are given and the job's record is gone (deleted while the job ran: its
    result is never applied)."""
    assert target in FINISHED
    fields["lane"] = lane_of(target)
    if connection.vendor == "mysql":
        done = _finish_run_in_one_statement(job, target, held_by, record_fields or {}, fields, counts)
        if done is None:
            # Not applied, or applied (and counted, in the same transaction) by a commit whose
            # connection was lost before it answered; then run again, which found nothing to
            # change. The run's token stays on a finished job, so one read tells which; only on
            # this rare path.
            applied = (
                "run_token" not in fields and Job.objects.filter(pk=job.pk, state=target, run_token=held_by).exists()
            )
            return Finished(bool(job.batch_id)) if applied else None
        known_total = job.batch.total if job.batch_id and Job.batch.is_cached(job) else None
        return Finished(bool(job.batch_id) and (known_total is None or done >= known_total))
    try:
        with transaction.atomic():
            if not transition(job.pk, target, held_by=held_by, **fields):
                return None
            if record_fields and job.record_id and not Record.objects.filter(pk=job.record_id).update(**record_fields):
                raise _RecordGone  # deleted meanwhile: the result is refused, nothing is applied
            if job.batch_id:
                Batch.objects.filter(pk=job.batch_id).update(done=F("done") + 1)
            usage.usage_add(counts=counts)
    except _RecordGone:
        return None
    return Finished(bool(job.batch_id))


class _RecordGone(Exception):
    pass


def _finish_run_in_one_statement(
    job: Job,
    target: str,
    held_by: uuid.UUID,
    record_fields: dict[str, Any],
    fields: dict[str, Any],
    counts: list[usage.Count],
) -> int | None:
    """None if the compare-and-set missed; else the batch's new `done` count (0 without a batch).
    The count comes back in the statement's own OK packet, through LAST_INSERT_ID(expr): no read.
    The usual case is one statement in autocommit: the UPDATE also adds the run's count to its
    ledger row (joined, so it changes nothing if that row is missing), one log flush and no
    transaction to open and close. Otherwise (a pipeline's several rows, a row not there) the
    UPDATE and the ledger's upsert after it share a transaction, the upsert sent only when the
    UPDATE changed the row: the change and its count are committed together or not at all."""
    fold = usage.foldable(counts)

    def applied(count: usage.Count | None) -> int | None:
        with connection.cursor() as cursor:
            cursor.execute(*_finish_statement(job, target, held_by, record_fields, fields, count))
            if cursor.rowcount <= 0:
                return None
            return cursor.lastrowid if job.batch_id else 0

    def execute() -> int | None:
        if fold is not None:
            usage.row_ensure(fold)
            if (done := applied(fold)) is not None:
                return done
            usage.row_forget(fold)  # the compare-and-set missed, or the row is gone: the path below tells
        with transaction.atomic():
            if (done := applied(None)) is not None:
                usage.usage_add(counts=counts)
            return done

    # A deadlock rolled all of it back, and a lost connection either committed it or not; the
    # compare-and-set makes running it again safe either way (a second run changes nothing, so
    # counts nothing).
    return retried_when_transient(execute)()


def _finish_statement(
    job: Job,
    target: str,
    held_by: uuid.UUID,
    record_fields: dict[str, Any],
    fields: dict[str, Any],
    count: usage.Count | None,
) -> tuple[str, list[Any]]:
    """The multi-table UPDATE ending the run: the job, its record (when given), its batch's
    `done`, and the count's ledger row (when given)."""
    qn = connection.ops.quote_name
    updates: list[tuple[str, type, dict[str, Any]]] = [("j", Job, {"state": target, **fields})]
    joins = ""
    join_params: list[Any] = []
    if record_fields and job.record_id:
        updates.append(("r", Record, record_fields))
        # An inner join: a record deleted meanwhile matches nothing, so the result is refused.
        joins += f" JOIN {qn(Record._meta.db_table)} r ON r.{qn('id')} = j.{qn('record_id')}"
    assignments: list[str] = []
    params: list[Any] = []
    for alias, model, values in updates:
        for name, value in values.items():
            field = model._meta.get_field(name)
            assignments.append(f"{alias}.{qn(field.column)} = %s")
            params.append(field.get_db_prep_save(value, connection))
    if job.batch_id:
        joins += f" LEFT JOIN {qn(Batch._meta.db_table)} b ON b.{qn('id')} = j.{qn('batch_id')}"
        assignments.append(f"b.{qn('done')} = LAST_INSERT_ID(b.{qn('done')} + 1)")
    if count is not None:
        join, on_params, added, added_params = usage.row_join(count, "u")
        joins += join
        join_params += on_params
        assignments += added
        params += added_params
    sources = sorted(sources_of(target))
    pk, token = Job._meta.pk, Job._meta.get_field("run_token")
    sql = (
        f"UPDATE {qn(Job._meta.db_table)} j{joins} SET {', '.join(assignments)}"
        f" WHERE j.{qn('id')} = %s AND j.{qn('state')} IN ({', '.join(['%s'] * len(sources))})"
        f" AND j.{qn('run_token')} = %s"
    )
    where = [pk.get_db_prep_value(job.pk, connection), *sources, token.get_db_prep_value(held_by, connection)]
    return sql, [*join_params, *params, *where]


DEADLOCK_TRIES = 3
ER_LOCK_DEADLOCK = 1213
ER_LOCK_WAIT_TIMEOUT = 1205
# The server went away or the connection dropped mid-statement (a KILL, a restart, a network cut).
CR_SERVER_GONE_ERROR = 2006
CR_SERVER_LOST = 2013
TRANSIENT_LOCK_ERRORS = frozenset({ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT})
LOST_CONNECTION_ERRORS = frozenset({CR_SERVER_GONE_ERROR, CR_SERVER_LOST})


def retried_on_deadlock(fn: Callable[..., T]) -> Callable[..., T]:
    """Run `fn` (which opens its own transaction) again when MySQL picked it as a deadlock victim
    or its lock wait timed out: its transaction was rolled back whole, so running it again is
    safe. Inside a caller's transaction the error is the caller's to handle."""
    return _retried(fn, reconnect=False)


def retried_when_transient(fn: Callable[..., T]) -> Callable[..., T]:
    """As retried_on_deadlock, and when the connection was lost (a KILL, a server restart) it is
    reopened and `fn` run once more. Only for a compare-and-set: whether a statement the lost
    connection carried was applied is unknown, and a compare-and-set applies at most once."""
    return _retried(fn, reconnect=True)


def _retried(fn: Callable[..., T], *, reconnect: bool) -> Callable[..., T]:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        reconnected = False
        for attempt in range(DEADLOCK_TRIES):
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                code = exc.args[0] if exc.args else None
                if connection.in_atomic_block or attempt == DEADLOCK_TRIES - 1:
                    raise
                if reconnect and code in LOST_CONNECTION_ERRORS and not reconnected:
                    logger.warning("lost the database connection (%s); reopening it and trying again", code)
                    connection.close()  # the next query opens a fresh one
                    reconnected = True
                elif code not in TRANSIENT_LOCK_ERRORS:
                    raise
        raise AssertionError("unreachable")

    return wrapper


def batch_count_done(*, batch_id: uuid.UUID | None, n: int = 1) -> None:
    """n more jobs of the batch finished (negative: were run again, which reopens a finished batch)."""
    if batch_id is not None and n:
        reopened = {"finished_at": None} if n < 0 else {}
        Batch.objects.filter(pk=batch_id).update(done=F("done") + n, **reopened)


def batch_finish_if_done(*, batch_id: uuid.UUID | None) -> bool:
    """Stamp the batch finished once its counter says every job has; one indexed UPDATE, no
    scan of its jobs. Only the call that stamps it sends `batch_finished`."""
    if batch_id is None:
        return False
    if not Batch.objects.filter(pk=batch_id, finished_at__isnull=True, done__gte=F("total")).update(
        finished_at=timezone.now()
    ):
        return False
    transaction.on_commit(
        lambda: signals.batch_finished.send(sender=Batch, batch=Batch.objects.select_related("vendor").get(pk=batch_id))
    )
    return True


def announce_finished(job_id: uuid.UUID, state: str, *, job: Job | None = None) -> None:
    """Send `job_finished` after commit; a caller that holds the finished job passes it, which
    saves reading it again."""
    if job is None:
        announce_finished_many([job_id], state)
        return
    transaction.on_commit(lambda: signals.job_finished.send(sender=Job, job=job, state=state))


def announce_finished_many(job_ids: list[uuid.UUID], state: str) -> None:
    """Send `job_finished` for each of the jobs after commit: read CHUNK at a time, and the
    change notices the receivers publish sent together, so the cost per job is no query."""
    if not job_ids:
        return

    def send() -> None:
        with events.published_together():
            for chunk in chunks(job_ids):
                for finished in Job.objects.filter(pk__in=chunk).select_related("vendor"):
                    signals.job_finished.send(sender=Job, job=finished, state=state)

    transaction.on_commit(send)


def chunks(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


CHUNK = 500  # rows per INSERT/UPDATE: far below MySQL's max_allowed_packet
