"""Jobs and batches. The row is the truth; Dramatiq messages carry only its id."""

from __future__ import annotations

import uuid

from django.db import models

from processing.jobs.states import JobState
from vendors.models import Priority, Record, Vendor


class Batch(models.Model):
    """A bulk request: many jobs of one kind started together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="batches")
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"{self.kind} batch {self.id}"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="jobs")
    record = models.ForeignKey(Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=32)
    # A batch's jobs leave this empty: their params are the batch's, stored once (run_params).
    params = models.JSONField(default=dict, blank=True)
    # An image fetched by the worker (never on the request path), when there is no record.
    input_url = models.URLField(max_length=2000, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    # NULL, not "", so that jobs without a key do not collide on the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    progress_percent = models.PositiveSmallIntegerField(default=0)
    progress_stage = models.CharField(max_length=32, blank=True)
    progress_message = models.CharField(max_length=255, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    # Set each time a worker takes the job; only the holder of the current token may finish it.
    run_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the job was handed to Dramatiq; null while it waits for admission.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)

    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    error_traceback = models.TextField(blank=True)
    # Every failed attempt: [{"attempt", "code", "message", "at"}].
    attempt_errors = models.JSONField(default=list, blank=True)

    # {"name", "content_type", "width", "height"}: a storage name, never bytes.
    result = models.JSONField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["vendor", "state", "-created_at"]),
            models.Index(fields=["kind", "state", "dispatched_at", "priority", "created_at"]),
            models.Index(fields=["state", "finished_at"]),
            models.Index(fields=["state", "heartbeat_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "idempotency_key"], name="uniq_job_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"

    @property
    def priority_label(self) -> str:
        return Priority(self.priority).label

    @property
    def run_params(self) -> dict:
        """The params the job runs with: its batch's, or its own when it has no batch."""
        return self.batch.params if self.batch_id else self.params
