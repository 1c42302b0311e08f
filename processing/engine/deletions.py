"""Deletions too large for a request: a project's records in batches, and the deletion
journal's files when a request noted more than it removes itself. On the maintenance queue,
beside retention (which also picks up whatever these leave unfinished)."""

from __future__ import annotations

import uuid

import dramatiq
from django.db import transaction

from processing.jobs.services import project_deletion_run
from vendors.storage_journal import storage_deletions_drain

QUEUE = "maintenance"


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=5_000, max_backoff=300_000, time_limit=60 * 60 * 1000)
def delete_project(deletion_id: str) -> None:
    """Safe to run again: it carries on from the records that are left."""
    project_deletion_run(deletion_id=uuid.UUID(deletion_id))


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=5_000, max_backoff=300_000, time_limit=30 * 60 * 1000)
def drain_storage_deletions() -> None:
    storage_deletions_drain()


def on_storage_deletions_journaled(sender, count, **kwargs) -> None:
    transaction.on_commit(drain_storage_deletions.send)


def project_deletion_send(deletion_id: uuid.UUID) -> None:
    """Have a worker delete the project once the request's transaction commits."""
    transaction.on_commit(lambda: delete_project.send(str(deletion_id)))
