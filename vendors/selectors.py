"""Reads of vendors and what they own. Every read is scoped by a vendor."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from vendors.models import ApiToken, Membership, Project, Record, Vendor


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


def membership_role(*, vendor: Vendor, user: AbstractBaseUser) -> str | None:
    return Membership.objects.filter(vendor=vendor, user=user).values_list("role", flat=True).first()


def project_list(*, vendor: Vendor) -> QuerySet[Project]:
    return Project.objects.filter(vendor=vendor)


def project_get(*, vendor: Vendor, project_id: int) -> Project | None:
    return Project.objects.filter(vendor=vendor, pk=project_id).first()


def record_list(*, vendor: Vendor, project: Project | None = None) -> QuerySet[Record]:
    records = Record.objects.filter(vendor=vendor)
    return records.filter(project=project) if project else records


def record_get(*, vendor: Vendor, record_id: int) -> Record | None:
    return Record.objects.filter(vendor=vendor, pk=record_id).first()


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
    "storage_bytes_limit",
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
