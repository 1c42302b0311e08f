"""Tenants and what they own. Image bytes never live here: only storage names."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from processing.lib.media import private_part


class User(AbstractUser):
    """Who signs in: vendors' people and operators. Django's own user, but ours, so fields can be
    added later without the swap Django cannot do once data exists (docs/user-model.md).

    The table keeps Django's name, auth_user (and auth_user_groups, auth_user_user_permissions),
    so a database made before this model existed already has the right tables.
    """

    # auth.User's own key type (int), so the tables and every foreign key to them stay as they were.
    id = models.AutoField(primary_key=True, verbose_name="ID")

    class Meta(AbstractUser.Meta):
        db_table = "auth_user"


class Priority(models.IntegerChoices):
    # Larger sorts first; gaps leave room for levels in between.
    LOW = 10, "low"
    NORMAL = 20, "normal"
    HIGH = 30, "high"

    @classmethod
    def from_label(cls, label: str) -> Priority:
        for member in cls:
            if member.label == label:
                return member
        raise ValueError(f"unknown priority {label!r}; use one of {[m.label for m in cls]}")


class Plan(models.Model):
    """Request limits, in-flight cap and default priority. A null limit means no limit."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    image_requests_limit = models.PositiveIntegerField(null=True, blank=True)
    image_requests_window_s = models.PositiveIntegerField(default=15 * 60)
    remove_bg_limit = models.PositiveIntegerField(null=True, blank=True)
    remove_bg_window_s = models.PositiveIntegerField(default=60 * 60)
    bulk_limit = models.PositiveIntegerField(null=True, blank=True)
    bulk_window_s = models.PositiveIntegerField(default=60 * 60)
    read_requests_limit = models.PositiveIntegerField(null=True, blank=True)
    read_requests_window_s = models.PositiveIntegerField(default=15 * 60)
    uploads_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Photos uploaded per window.")
    uploads_window_s = models.PositiveIntegerField(default=60 * 60)
    ai_calls_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="ai_endpoint jobs (and pipeline steps) per window: the AI bill's budget."
    )
    ai_calls_window_s = models.PositiveIntegerField(default=24 * 60 * 60)
    ai_tokens_limit = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="AI tokens (input + output, as the providers count them) per window. Counted once a job's "
        "calls are answered: new ai_endpoint jobs are refused once it is reached.",
    )
    ai_tokens_window_s = models.PositiveIntegerField(default=24 * 60 * 60)
    storage_bytes_limit = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes of originals a vendor may keep stored at once."
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days a record (original, results, previews) is kept after its upload; empty: forever.",
    )
    max_in_flight = models.PositiveIntegerField(default=4, help_text="Jobs of one vendor running at once.")
    default_priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    never_expiring_api_keys = models.BooleanField(
        default=False,
        help_text="Its vendors' users may make API keys that never expire (ttl_days 0); otherwise every key "
        "expires within API_TOKEN_TTL_DAYS.",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Vendor(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    is_active = models.BooleanField(default=True)
    is_paused = models.BooleanField(default=False, help_text="Waiting jobs hold; nothing is lost.")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="vendors")
    # Per-vendor overrides of the plan, keyed by Plan field name, e.g. {"remove_bg_limit": 100}.
    limit_overrides = models.JSONField(default=dict, blank=True)
    # Bytes of the originals its records keep: counted at upload and when a record goes
    # (vendors/services.py, vendors/signals.py), so the storage quota costs no SUM per request.
    storage_bytes = models.PositiveBigIntegerField(default=0)
    # Never reused, unlike the id (a database restored or recreated while Redis is kept): what
    # the vendor's quota counters and fairness turns in Redis are keyed by, so a new vendor that
    # gets an old id starts from zero.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        MEMBER = "member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vendor"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.vendor} ({self.role})"


class Project(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when its deletion starts (in the background, ProjectDeletion): from then on it is gone
    # for every read, and its records go in batches.
    deletion_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["vendor", "name"], name="uniq_project_name")]

    def __str__(self) -> str:
        return self.name


def original_upload_to(record: Record, filename: str) -> str:
    # <area>/<vendor id>/<128 random bits>/…: every stored name (processing/lib/media.py).
    return f"originals/{record.vendor_id}/{private_part()}/{filename}"


class Record(models.Model):
    """One photo: its original and its latest processed output, as storage names."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="records")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="records")
    original = models.FileField(upload_to=original_upload_to, max_length=500)
    original_filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    processed = models.FileField(max_length=500, blank=True)
    processed_content_type = models.CharField(max_length=100, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Small WebP previews of original and processed (vendors.thumbnails), for grids and admin lists.
    original_thumbnail = models.FileField(max_length=500, blank=True)
    processed_thumbnail = models.FileField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["vendor", "-created_at"])]

    def __str__(self) -> str:
        return self.original_filename or str(self.pk)


class ApiToken(models.Model):
    """A user's API key, kept only as its SHA-256 (the key itself is shown once, when made or
    rotated). `prefix` is its first characters, to tell keys apart in lists and logs."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class ProjectDeletion(models.Model):
    """A project being deleted in the background, and how far it got: what the status URL of a
    project's DELETE answers. Kept after the project is gone (removed with its vendor)."""

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="project_deletions")
    project_id = models.PositiveBigIntegerField()
    project_name = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    total = models.PositiveIntegerField(default=0, help_text="Records the project held when its deletion started.")
    deleted = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"deletion of project {self.project_name} ({self.state})"


class StorageDeletion(models.Model):
    """The deletion journal: a file (or every file whose name starts with `name`, when `prefix`)
    to remove from storage. Written in the transaction that deletes the rows naming the files,
    so a file is never forgotten; drained in bounded batches (vendors/storage_journal.py), retried
    with a backoff while the storage fails. The sweep reads only this table, never the storage's
    listing. No foreign keys: entries outlive their vendor."""

    name = models.CharField(max_length=500)
    prefix = models.BooleanField(default=False)
    vendor_id = models.PositiveBigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["due_at", "id"], name="storage_deletion_due")]

    def __str__(self) -> str:
        return f"{self.name}{'*' if self.prefix else ''}"


class AuditEvent(models.Model):
    """Who deleted, exported or offboarded what, and when: a vendor's user, an operator, or the
    retention run. No foreign key to what it names (the data is gone; the line stays) and the
    actor's name is copied, so the trail outlives users and vendors."""

    class ActorKind(models.TextChoices):
        VENDOR_USER = "vendor_user", "vendor user"
        OPERATOR = "operator"
        SYSTEM = "system", "system (retention)"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    vendor_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    vendor_slug = models.CharField(max_length=50, blank=True)
    target = models.CharField(max_length=255, help_text="What it was done to, as it was named then.")
    count = models.PositiveIntegerField(default=0, help_text="Records it covered.")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or self.actor_kind} {self.action} {self.target}"


def export_name(vendor_id: int, filename: str) -> str:
    """Where an export's ZIP is stored: 128 random bits in its folder, so the name cannot be guessed."""
    return f"exports/{vendor_id}/{secrets.token_urlsafe(16)}/{filename}"


class Export(models.Model):
    """A ZIP of a vendor's project, or of all its data (originals, results, a manifest), built in
    the background and downloadable until `expires_at`; then its file goes (through the deletion
    journal) and the row stays as `expired`. The row is the truth the status URL answers."""

    class Scope(models.TextChoices):
        PROJECT = "project"
        ALL = "all"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="exports")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    # The project exported (null for all data, or once the project is gone); its name copied.
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports")
    project_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Files to put in the archive.")
    done = models.PositiveIntegerField(default=0, help_text="Files in the archive so far.")
    size_bytes = models.PositiveBigIntegerField(default=0)
    file = models.CharField(max_length=500, blank=True, help_text="Storage name of the ZIP once ready.")
    error = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    # Written by the build as it goes: a build silent for long is taken over (its worker died).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "expires_at"], name="export_expiry")]

    def __str__(self) -> str:
        what = f"project {self.project_name}" if self.scope == self.Scope.PROJECT else "all data"
        return f"export of {what} ({self.state})"


class VendorOffboarding(models.Model):
    """An operator's removal of a vendor and everything it stored, run in the background; the row
    says how far it got and what went. No foreign key: it outlives the vendor (the audit trail
    holds who asked)."""

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor_id = models.PositiveBigIntegerField(db_index=True)
    vendor_slug = models.CharField(max_length=50)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    requested_by_name = models.CharField(max_length=150, blank=True)
    removed = models.JSONField(
        default=dict, blank=True, help_text="What went: rows per model, files, Redis keys, users."
    )
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"offboarding of {self.vendor_slug} ({self.state})"
