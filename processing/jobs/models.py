"""Jobs and batches. The row is the truth; Dramatiq messages carry only its id."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from processing.jobs.states import JobState
from vendors.models import Priority, Record, Vendor


class Lane(models.IntegerChoices):
    """Where a job stands for admission, kept by the same UPDATE that changes its state. Each
    value is an index range: admission reads WAITING rows of one (kind, vendor) in priority
    order, counts IN_FLIGHT rows (bounded by the queue capacities) and promotes DEFERRED rows
    whose not_before has passed. It never reads a row it cannot admit."""

    DONE = 0, "done"  # succeeded, failed or cancelled
    WAITING = 1, "waiting"  # queued, not handed to Dramatiq, admissible now
    DEFERRED = 2, "deferred"  # queued, waiting for not_before (retry backoff, rate limit)
    IN_FLIGHT = 3, "in flight"  # handed to Dramatiq and not finished (queued or running)


def lane_of(state: str, *, deferred: bool = False) -> Lane:
    """The lane a job enters with a state change; a queued job with a `not_before` is deferred.
    (Only admission puts a queued job IN_FLIGHT.)"""
    if state == JobState.QUEUED:
        return Lane.DEFERRED if deferred else Lane.WAITING
    return Lane.IN_FLIGHT if state == JobState.RUNNING else Lane.DONE


class KindQueue(models.Model):
    """One row per kind: an admission pass locks its row (SELECT … FOR UPDATE SKIP LOCKED) for
    one short transaction. The lock ends with the transaction or with the connection, so a
    dispatcher that dies holds nothing."""

    kind = models.CharField(max_length=32, primary_key=True)

    def __str__(self) -> str:
        return self.kind


class Batch(models.Model):
    """A bulk request: many jobs of one kind started together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="batches")
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    total = models.PositiveIntegerField(default=0)
    # Jobs of the batch that have finished: counted by each terminal transition, never scanned.
    done = models.PositiveIntegerField(default=0)
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
    # A job without an input (an image generated from a prompt) whose result becomes a record of
    # this project.
    project = models.ForeignKey("vendors.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=32)
    # A batch's jobs leave this empty: their params are the batch's, stored once (run_params).
    params = models.JSONField(default=dict, blank=True)
    # An image fetched by the worker (never on the request path), when there is no record.
    input_url = models.URLField(max_length=2000, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    # The X-Request-ID of the request that created the job; on the worker's log lines for it.
    request_id = models.CharField(max_length=128, blank=True, db_default="")
    lane = models.PositiveSmallIntegerField(choices=Lane.choices, default=Lane.WAITING, editable=False)

    progress_percent = models.PositiveSmallIntegerField(default=0)
    progress_stage = models.CharField(max_length=32, blank=True)
    progress_message = models.CharField(max_length=255, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    # Set each time a worker takes the job; only the holder of the current token may finish it.
    run_token = models.UUIDField(null=True, blank=True)
    # The last progress report (shown to operators; nothing is decided on it).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The running job's lease: its worker process renews it (engine/leases.py) whatever the job's
    # code does; only once it has passed may the job be taken back (a dead or frozen worker).
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the job was handed to Dramatiq; null while it waits for admission.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # How many times admission handed the job to Dramatiq. Each message carries the count it was
    # sent with, and only a message with the current count may start the job: an older message
    # (re-dispatched after it was thought lost) finds nothing to do.
    dispatches = models.PositiveIntegerField(default=0, db_default=0)
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
            # The job list's pages, newest first (-created_at, -id), with and without a state filter.
            models.Index(fields=["vendor", "-created_at", "-id"], name="job_vendor_newest_idx"),
            models.Index(fields=["vendor", "state", "-created_at", "-id"], name="job_vendor_state_newest_idx"),
            # A vendor's next jobs of a kind, by priority then age: an index range read in order.
            models.Index(fields=["kind", "lane", "vendor", "-priority", "created_at"], name="job_admission"),
            # Which (kind, vendor) pairs wait: MariaDB's loose index scan, one dive per pair. It is
            # skipped on an index with a DESC part, hence this all-ascending index of its own.
            models.Index(fields=["lane", "kind", "vendor"], name="job_lane_vendor"),
            models.Index(fields=["lane", "not_before"], name="job_lane_due"),
            models.Index(fields=["state", "finished_at"]),
            models.Index(fields=["state", "lease_expires_at"], name="job_lease_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"

    @property
    def priority_label(self) -> str:
        return Priority(self.priority).label

    @property
    def run_params(self) -> dict[str, Any]:
        """The params the job runs with: its batch's, or its own when it has no batch."""
        params: dict[str, Any] = self.batch.params if self.batch is not None else self.params
        return params


class IdempotencyKey(models.Model):
    """An Idempotency-Key a vendor sent (draft-ietf-httpapi-idempotency-key-header): the
    fingerprint of the request it came with, and what that request made. Goes with its job or
    batch, and after the longest job retention at the latest (services/housekeeping.py)."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)  # as sent, to show; compared by key_digest only
    # sha256 hex of the key's bytes: what keys are matched on, so they compare byte-exactly (the
    # column collation is case- and trailing-space-insensitive: "abc", "ABC" and "abc " are one).
    key_digest = models.CharField(max_length=64)
    # sha256 hex of method, path and validated content; "" for keys from before fingerprints.
    fingerprint = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "key_digest"], name="uniq_idempotency_key_digest_per_vendor")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class UsageDay(models.Model):
    """The usage ledger: what a vendor's jobs did on one UTC day, per kind and, for pipelines, per
    step kind. Written by the transitions it counts (jobs/usage.py), never recomputed from job
    rows, which retention and record deletion remove: the place billing reads.

    `step_kind` is "" on a kind's own row, which counts jobs; a pipeline also has one row per step
    kind, counting only `images` (its steps of that kind in succeeded jobs). Totals read the ""
    rows alone."""

    # SET_NULL: an offboarded vendor's rows stay (USAGE_ON_VENDOR_DELETE), named by vendor_slug.
    vendor = models.ForeignKey(Vendor, null=True, on_delete=models.SET_NULL, related_name="+")
    # Filled when the vendor is deleted (its slug, or a pseudonym): the rows' name afterwards.
    vendor_slug = models.CharField(max_length=64, blank=True, default="")
    day = models.DateField()
    kind = models.CharField(max_length=32)
    step_kind = models.CharField(max_length=32, blank=True, default="")

    submitted = models.PositiveIntegerField(default=0)  # created, or run again by hand
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)  # what is billed: a succeeded job's steps
    input_bytes = models.PositiveBigIntegerField(default=0)
    output_bytes = models.PositiveBigIntegerField(default=0)
    worker_ms = models.PositiveBigIntegerField(default=0)  # the finishing run's time, start to end
    ai_calls = models.PositiveIntegerField(default=0)
    ai_input_tokens = models.PositiveBigIntegerField(default=0)
    ai_output_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            # The upserts' key, and the index of "a vendor's days from .. to": eq on vendor, range on day.
            models.UniqueConstraint(fields=["vendor", "day", "kind", "step_kind"], name="usage_day_key"),
        ]
        indexes = [models.Index(fields=["day", "vendor"], name="usage_day_month")]  # the admin's month

    def __str__(self) -> str:
        return f"{self.vendor_id or self.vendor_slug} {self.day} {self.kind}{'/' + self.step_kind if self.step_kind else ''}"


class StorageDay(models.Model):
    """Bytes a vendor's stored originals held (Vendor.storage_bytes, what its storage quota
    counts), sampled once a UTC day by the scheduler (usage_sample_storage)."""

    vendor = models.ForeignKey(Vendor, null=True, on_delete=models.SET_NULL, related_name="+")
    vendor_slug = models.CharField(max_length=64, blank=True, default="")
    day = models.DateField()
    originals_bytes = models.PositiveBigIntegerField(default=0)
    sampled_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "day"], name="storage_day_key")]

    def __str__(self) -> str:
        return f"{self.vendor_id or self.vendor_slug} {self.day}"
