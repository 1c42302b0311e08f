"""Webhook endpoints of a vendor and the log of every delivery attempt to them."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models

from processing.jobs.models import Lane
from vendors.models import Vendor


class WebhookEvent(models.TextChoices):
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
    BATCH_FINISHED = "batch.finished"


def all_events() -> list[str]:
    return list(WebhookEvent.values)


class WebhookEndpoint(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    # A Standard Webhooks secret (whsec_ + base64 key), kept readable: every delivery is signed
    # with it. Shown to the vendor once, on creation or rotation.
    secret = models.CharField(max_length=128)
    # The secret before the last rotation: deliveries are signed with it too until it expires.
    previous_secret = models.CharField(max_length=128, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=all_events)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "processing_webhookendpoint"  # created when webhooks lived in the processing app
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.vendor} -> {self.url}"

    def signing_secrets(self, *, now: datetime) -> list[str]:
        """The secrets a delivery at `now` is signed with: the current one, and the previous one
        while its rotation grace period lasts."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint; attempts of one event share delivery_id."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    payload = models.JSONField()
    attempt = models.PositiveSmallIntegerField(default=1)
    # Null when no response came (refused, timed out, address refused).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "processing_webhookdelivery"
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        # The delivery log's pages, newest first (-created_at, -id).
        indexes = [models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_newest_idx")]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} attempt {self.attempt}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class QueuedDelivery(models.Model):
    """One event on its way to one endpoint, from the moment it is queued until it is delivered
    or given up (then the row goes; every attempt stays in WebhookDelivery). Deliveries wait
    here, not in Redis: `processing/webhooks/admission.py` hands them to the `webhooks` queue a
    few per vendor at a time, round-robin between vendors, so one vendor's backlog never stands
    in front of another's delivery. A retry waits DEFERRED until `not_before`, holding no
    worker thread and no slot."""

    # The delivery's id, sent as webhook-id on every attempt (and logged as delivery_id).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    payload = models.JSONField()
    attempt = models.PositiveSmallIntegerField(default=1)  # the number of the next attempt
    # Lane as for jobs: WAITING (admissible now), DEFERRED (until not_before), IN_FLIGHT (its
    # message handed to the webhooks queue); never DONE: a finished delivery's row is deleted.
    lane = models.PositiveSmallIntegerField(default=Lane.WAITING, choices=Lane.choices)
    not_before = models.DateTimeField(null=True, blank=True)
    # Raised by each hand-over; its message carries it, so only the latest message may attempt.
    dispatches = models.PositiveIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Which vendors wait, in-flight counts per vendor, a vendor's oldest rows in order.
            models.Index(fields=["lane", "vendor", "created_at"], name="queued_delivery_lane_vendor"),
            # Retries whose backoff has passed.
            models.Index(fields=["lane", "not_before"], name="queued_delivery_lane_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} (attempt {self.attempt}, lane {self.lane})"


class DeliveryQueue(models.Model):
    """One row, locked (SELECT … FOR UPDATE SKIP LOCKED) by each admission pass of webhook
    deliveries for its one short transaction; the lock ends with the transaction or with the
    connection, so a dispatcher that dies holds nothing."""

    name = models.CharField(max_length=32, primary_key=True)

    def __str__(self) -> str:
        return self.name
