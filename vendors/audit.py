"""The audit trail: one line per deletion, export or offboarding, kept after the data is gone."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from vendors.models import AuditEvent, Vendor

RECORDS_DELETED = "records.deleted"
PROJECT_DELETED = "project.deleted"
RECORDS_EXPIRED = "records.expired"
EXPORT_REQUESTED = "export.requested"
EXPORT_DOWNLOADED = "export.downloaded"
VENDOR_OFFBOARDING = "vendor.offboarding"
VENDOR_OFFBOARDED = "vendor.offboarded"


def audit_log(
    *,
    action: str,
    vendor: Vendor | None,
    target: str,
    actor: AbstractBaseUser | None = None,
    operator: bool = False,
    count: int = 0,
    details: dict | None = None,
) -> AuditEvent:
    """Note who (a vendor's user; an operator when `operator`; the system when no actor) did
    `action` to `target`. Call inside the transaction that does it, so the line and the change
    stand or fall together."""
    if actor is None:
        kind = AuditEvent.ActorKind.SYSTEM
    else:
        kind = AuditEvent.ActorKind.OPERATOR if operator else AuditEvent.ActorKind.VENDOR_USER
    return AuditEvent.objects.create(
        action=action,
        actor_kind=kind,
        actor_id=actor.pk if actor is not None else None,
        actor_name=actor.get_username() if actor is not None else "",
        vendor_id=vendor.pk if vendor is not None else None,
        vendor_slug=vendor.slug if vendor is not None else "",
        target=target[:255],
        count=count,
        details=details or {},
    )
