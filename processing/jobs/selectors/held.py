"""The job a run has just taken, with its vendor, record and batch: the one read on every job's
hot path. The ORM would build the same SELECT … JOIN again for every job (≈0.8 ms of a short
job's ≈3 ms); here it is built from the models once per connection and its rows are converted as
the ORM converts them, so the objects are the ORM's own, related objects cached as
select_related leaves them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, ForeignKey, Model

from processing.jobs.models import Batch, Job
from vendors.models import Record, Vendor

# (relation on Job, its model, alias, joined as): the vendor always exists, the others may not.
_RELATED = (("vendor", Vendor, "v", "JOIN"), ("record", Record, "r", "LEFT JOIN"), ("batch", Batch, "b", "LEFT JOIN"))


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    relation: str  # "" for the job itself
    fields: list[Field[Any, Any]]
    converters: list[list[tuple[Any, Any]]]  # per column: (converter, expression)


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: list[_Part]


def _plan() -> _Plan:
    """Built once per connection (per thread): the converters are the connection's own."""
    plan: _Plan | None = getattr(connection, "darkroom_held_plan", None)
    if plan is None:
        plan = _build_plan()
        setattr(connection, "darkroom_held_plan", plan)  # noqa: B010  (a wrapper's own attribute)
    return plan


def _build_plan() -> _Plan:
    qn = connection.ops.quote_name
    parts, columns = [], []
    joins = ""
    for relation, model, alias, join in (("", Job, "j", ""), *_RELATED):
        fields = list(model._meta.concrete_fields)
        converters = []
        for field in fields:
            col = field.get_col(alias)
            converters.append(
                [(c, col) for c in connection.ops.get_db_converters(col) + col.get_db_converters(connection)]
            )
            columns.append(f"{alias}.{qn(_column(field))}")
        parts.append(_Part(model, relation, fields, converters))
        if relation:
            on = f"{alias}.{qn(_column(model._meta.pk))} = j.{qn(_column(Job._meta.get_field(relation)))}"
            joins += f" {join} {qn(model._meta.db_table)} {alias} ON {on}"
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(Job._meta.db_table)} j{joins}"
        f" WHERE j.{qn(_column(Job._meta.pk))} = %s AND j.{qn(_column(Job._meta.get_field('run_token')))} = %s"
    )
    return _Plan(sql, parts)


def _column(field: object) -> str:
    assert isinstance(field, Field) and field.column
    return field.column


def job_held(*, job_id: uuid.UUID, run_token: uuid.UUID) -> Job | None:
    """The job if `run_token` holds it (None otherwise), with vendor, record and batch loaded."""
    plan = _plan()
    pk, token = Job._meta.pk, Job._meta.get_field("run_token")
    params = [pk.get_db_prep_value(job_id, connection), token.get_db_prep_value(run_token, connection)]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    objects: dict[str, Model | None] = {}
    start = 0
    for part in plan.parts:
        values = list(row[start : start + len(part.fields)])
        start += len(part.fields)
        if part.relation and values[0] is None:  # a LEFT JOIN that found nothing
            objects[part.relation] = None
            continue
        for i, converters in enumerate(part.converters):
            for convert, expression in converters:
                values[i] = convert(values[i], expression, connection)
        objects[part.relation] = part.model.from_db(connection.alias, [f.attname for f in part.fields], values)
    job = objects.pop("")
    assert isinstance(job, Job)
    for relation, related in objects.items():
        foreign_key = Job._meta.get_field(relation)
        assert isinstance(foreign_key, ForeignKey)
        foreign_key.set_cached_value(job, related)
    return job
