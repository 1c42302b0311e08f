"""Reads of vendors and what they own. Every read is scoped by a vendor."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from vendors.models import ApiToken, Export, Membership, Project, ProjectDeletion, Record, Vendor


def vendors_of_user(*, user: AbstractBaseUser) -> QuerySet[Vendor]:
    return Vendor.objects.filter(memberships__user=user, is_active=True).order_by("memberships__created_at")


def vendor_for_user(*, user: AbstractBaseUser, slug: str | None = None) -> Vendor | None:
    """The vendor a request acts for: the one named, else the user's first."""
    if not user or not user.is_authenticated:
        return None
    vendors = vendors_of_user(user=user)
    if slug:
        vendors = vendors.filter(slug=slug)
    return vendors.select_related("plan").first()


def user_reads_vendor(*, user: AbstractBaseUser, vendor_id: int) -> bool:
    """May this user read what the vendor stored: a member of it while it is active, or an
    operator (staff). What the media view asks before it hands out a file."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(user=user, vendor_id=vendor_id, vendor__is_active=True).exists()


def membership_role(*, vendor: Vendor, user: AbstractBaseUser) -> str | None:
    return Membership.objects.filter(vendor=vendor, user=user).values_list("role", flat=True).first()


def project_list(*, vendor: Vendor) -> QuerySet[Project]:
    """The vendor's projects; one being deleted is gone already."""
    return Project.objects.filter(vendor=vendor, deletion_requested_at__isnull=True)


def project_get(*, vendor: Vendor, project_id: int) -> Project | None:
    return project_list(vendor=vendor).filter(pk=project_id).first()


def record_list(*, vendor: Vendor, project: Project | None = None) -> QuerySet[Record]:
    """The vendor's records; those of a project being deleted are gone already."""
    records = Record.objects.filter(vendor=vendor, project__deletion_requested_at__isnull=True)
    return records.filter(project=project) if project else records


def record_get(*, vendor: Vendor, record_id: int) -> Record | None:
    return record_list(vendor=vendor).filter(pk=record_id).first()


def project_deletion_get(*, vendor: Vendor, deletion_id: uuid.UUID | str) -> ProjectDeletion | None:
    try:
        return ProjectDeletion.objects.filter(vendor=vendor, pk=uuid.UUID(str(deletion_id))).first()
    except ValueError:
        return None


def vendor_retention_days(*, vendor: Vendor) -> int | None:
    """How many days the vendor's records are kept after upload (None: forever)."""
    return vendor_limits(vendor=vendor)["retention_days"]


def record_list_by_ids(*, vendor: Vendor, project: Project, ids: list[int]) -> list[Record]:
    return list(Record.objects.filter(vendor=vendor, project=project, pk__in=ids).order_by("created_at"))


LIMIT_FIELDS = (
    "image_requests_limit",
    "image_requests_window_s",
    "remove_bg_limit",
    "remove_bg_window_s",
    "bulk_limit",
    "bulk_window_s",
    "read_requests_limit",
    "read_requests_window_s",
    "uploads_limit",
    "uploads_window_s",
    "ai_calls_limit",
    "ai_calls_window_s",
    "ai_tokens_limit",
    "ai_tokens_window_s",
    "storage_bytes_limit",
    "retention_days",
    "max_in_flight",
    "default_priority",
)


def vendor_limits(*, vendor: Vendor) -> dict[str, int | None]:
    """The vendor's plan with its per-vendor overrides applied."""
    limits = {field: getattr(vendor.plan, field) for field in LIMIT_FIELDS}
    limits.update({k: v for k, v in (vendor.limit_overrides or {}).items() if k in LIMIT_FIELDS})
    return limits


def vendor_get_by_slug(*, slug: str) -> Vendor | None:
    """For operators at a terminal, who name vendors by slug."""
    return Vendor.objects.select_related("plan").filter(slug=slug).first()


@dataclass(frozen=True)
class StorageUsage:
    """The bytes a vendor's originals take, against its storage quota (None: no limit)."""

    used: int
    limit: int | None

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


def vendor_storage(*, vendor: Vendor) -> StorageUsage:
    used = Vendor.objects.filter(pk=vendor.pk).values_list("storage_bytes", flat=True).first() or 0
    return StorageUsage(used=used, limit=vendor_limits(vendor=vendor)["storage_bytes_limit"])


def api_token_list(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """A user's own tokens; there is no way to read another's."""
    return ApiToken.objects.filter(user=user)


def api_token_get(*, user: AbstractBaseUser, token_id: int | None) -> ApiToken | None:
    return ApiToken.objects.filter(user=user, pk=token_id).first() if token_id else None


def vendor_api_token_list(*, vendor: Vendor) -> QuerySet[ApiToken]:
    """Every key that can act for the vendor: the keys of all its members (for its owners to see
    and revoke at once), with their user."""
    return ApiToken.objects.filter(user__memberships__vendor=vendor).select_related("user").distinct()


def never_expiring_api_keys_allowed(*, user: AbstractBaseUser) -> bool:
    """Whether `user` may make a key that never expires: only if they belong to a vendor and every
    vendor they belong to is on a plan that allows it (a key acts for each of them)."""
    memberships = Membership.objects.filter(user=user)
    return memberships.exists() and not memberships.filter(vendor__plan__never_expiring_api_keys=False).exists()


STORED_FIELDS = ("original", "processed", "original_thumbnail", "processed_thumbnail")


def record_stored_names(*, chunk: int = 1000) -> Iterator[str]:
    """Every file name the records of every vendor point at, in chunks of rows: for operators'
    one-off work over the whole storage (manage.py media_make_private)."""
    last = 0
    while rows := list(Record.objects.filter(pk__gt=last).order_by("pk").values_list("pk", *STORED_FIELDS)[:chunk]):
        for pk, *names in rows:
            last = pk
            yield from (name for name in names if name)


def export_list(*, vendor: Vendor) -> QuerySet[Export]:
    return Export.objects.filter(vendor=vendor)


def export_get(*, vendor: Vendor, export_id: uuid.UUID | str) -> Export | None:
    try:
        return export_list(vendor=vendor).filter(pk=uuid.UUID(str(export_id))).first()
    except ValueError:
        return None
