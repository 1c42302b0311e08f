"""Exports are built by a worker on the maintenance queue: a large one takes minutes of storage
reads and writes, never a request's time."""

from __future__ import annotations

import uuid

import dramatiq
from django.db import transaction

from processing.jobs.services import ExportGone, export_build
from processing.jobs.services.exports import EXPORT_TIME_LIMIT_S

QUEUE = "maintenance"


@dramatiq.actor(
    queue_name=QUEUE,
    # A build that failed is marked failed on its row (the vendor asks again); Dramatiq retries
    # only what kept it from starting (the database away), and a retry starts the build over.
    max_retries=3,
    min_backoff=5_000,
    max_backoff=300_000,
    time_limit=EXPORT_TIME_LIMIT_S * 1000,
    throws=(ExportGone,),
)
def build_export(export_id: str) -> None:
    export_build(export_id=uuid.UUID(export_id))


def export_send(export_id: uuid.UUID) -> None:
    """Have a worker build the export once the request's transaction commits."""
    transaction.on_commit(lambda: build_export.send(str(export_id)))
