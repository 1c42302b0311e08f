"""Every change to vendors, members, projects and records."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from processing.lib.errors import InvalidOptions, OverLimit
from processing.lib.imaging.upload_type import stored_name, upload_content_type
from vendors.models import ApiToken, Membership, Plan, Project, Record, Vendor
from vendors.quotas import StorageQuotaExceeded
from vendors.selectors import LIMIT_FIELDS, never_expiring_api_keys_allowed, vendor_api_token_list, vendor_limits
from vendors.signals import vendor_limits_changed

DEFAULT_PROJECT_NAME = "Uploads"


def vendor_create(*, slug: str, name: str = "", plan_slug: str = "standard") -> Vendor:
    plan = Plan.objects.get(slug=plan_slug)
    return Vendor.objects.create(slug=slugify(slug), name=name or slug, plan=plan)


def vendor_get_or_create(*, slug: str, plan_slug: str = "standard") -> tuple[Vendor, bool]:
    existing = Vendor.objects.filter(slug=slug).first()
    if existing:
        return existing, False
    return vendor_create(slug=slug, plan_slug=plan_slug), True


def member_add(*, vendor: Vendor, user: AbstractBaseUser, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.get_or_create(vendor=vendor, user=user, defaults={"role": role})
    return membership


def user_get_or_create(*, username: str, password: str | None = None) -> tuple[AbstractBaseUser, bool]:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username)
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user, created


# New keys start with this, so a leaked one is easy to recognise (secret scanners, logs).
API_KEY_PREFIX = "drk_"
PREFIX_CHARS = 12
# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY_S = 60
# Keys one user may hold at once: enough for every integration, not a store of secrets.
MAX_TOKENS_PER_USER = 20


class NeverExpiringKeyNotAllowed(InvalidOptions):
    """A key that never expires, asked for on a plan without them: a refusal by policy."""

    code = "never_expiring_key_not_allowed"
    status = 403
    field = "ttl_days"


class KeyLifetimeTooLong(InvalidOptions):
    code = "key_lifetime_too_long"
    field = "ttl_days"


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str, str]:
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:PREFIX_CHARS], api_key_hash(key)


def _expiry(*, user: AbstractBaseUser, ttl_days: int | None) -> datetime | None:
    """When a key of `user` made now expires: API_TOKEN_TTL_DAYS from now when `ttl_days` is None,
    never more. `ttl_days` 0 (never) only where every vendor of the user is on a plan that allows
    it (Plan.never_expiring_api_keys), NeverExpiringKeyNotAllowed otherwise; more
    than the cap, KeyLifetimeTooLong. So a stolen key cannot mint keys that outlive the
    rules."""
    cap = settings.API_TOKEN_TTL_DAYS  # 0: keys never expire in this deployment, nothing to cap
    days = cap if ttl_days is None else ttl_days
    if days == 0 and cap and not never_expiring_api_keys_allowed(user=user):
        raise NeverExpiringKeyNotAllowed(
            f"ttl_days 0 (never expires) is not allowed on your plan; give 1 to {cap} days"
        )
    if cap and days > cap:
        raise KeyLifetimeTooLong(f"ttl_days is at most {cap} (API_TOKEN_TTL_DAYS), not {days}")
    return timezone.now() + timedelta(days=days) if days else None


def api_token_create(
    *, user: AbstractBaseUser, name: str = "default", ttl_days: int | None = None, capped: bool = True
) -> tuple[ApiToken, str]:
    """A new token and its key. Only the hash is kept: show the key now, it cannot be read again.
    It expires after `ttl_days` (API_TOKEN_TTL_DAYS when None, never later; see _expiry). At most
    MAX_TOKENS_PER_USER (OverLimit with code too_many_tokens beyond), also under concurrent
    requests: the user's row is locked while the keys are counted and the new one is written."""
    expires_at = _expiry(user=user, ttl_days=ttl_days)
    key, prefix, digest = _new_key()
    with transaction.atomic():
        if capped:
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
                raise OverLimit(
                    f"at most {MAX_TOKENS_PER_USER} API keys per user; revoke one first", code="too_many_tokens"
                )
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=prefix, key_hash=digest, expires_at=expires_at
        )
    return token, key


def api_token_rotate(*, token: ApiToken, ttl_days: int | None = None) -> tuple[ApiToken, str]:
    """A new key for the token (same name), expiring as a new key would (_expiry); the old key
    stops working at once."""
    expires_at = _expiry(user=token.user, ttl_days=ttl_days)
    key, prefix, digest = _new_key()
    token.prefix, token.key_hash, token.expires_at, token.last_used_at = prefix, digest, expires_at, None
    token.save(update_fields=["prefix", "key_hash", "expires_at", "last_used_at"])
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def vendor_api_tokens_revoke(*, vendor: Vendor) -> int:
    """Revoke every key that can act for the vendor (its members' keys; a member's key acts for
    each of their vendors, so it goes for all of them): they stop working at once. How many went."""
    ids = list(vendor_api_token_list(vendor=vendor).values_list("pk", flat=True))
    deleted, _ = ApiToken.objects.filter(pk__in=ids).delete()
    return deleted


def api_token_use(*, key: str) -> ApiToken | None:
    """The live token whose key this is (None: unknown, expired, or its user inactive), its use
    noted (last_used_at, at most once a minute)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=api_key_hash(key)).first()
    now = timezone.now()
    if token is None or (token.expires_at is not None and token.expires_at <= now) or not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= LAST_USED_EVERY_S:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_for(*, user: AbstractBaseUser) -> str:
    """A new key for the user (operators' `create_vendor`, tests): shown once. Operators are not
    held to the per-user cap."""
    return api_token_create(user=user, capped=False)[1]


def project_create(*, vendor: Vendor, name: str) -> Project:
    return Project.objects.create(vendor=vendor, name=name)


def project_default(*, vendor: Vendor) -> Project:
    """The project that uploads without a project land in."""
    try:
        project, _ = Project.objects.get_or_create(vendor=vendor, name=DEFAULT_PROJECT_NAME)
    except IntegrityError:  # created by a concurrent request
        project = Project.objects.get(vendor=vendor, name=DEFAULT_PROJECT_NAME)
    return project


@transaction.atomic
def record_create(*, project: Project, upload: UploadedFile) -> Record:
    """Store an uploaded original, if its bytes are an allowed raster image (InvalidImage with
    code unsupported_image otherwise) and fit in the vendor's storage quota (StorageQuotaExceeded
    otherwise). It is stored under a name and type the server chooses from the bytes; the
    client's filename is kept only to show."""
    content_type = upload_content_type(upload)
    _storage_reserve(vendor=project.vendor, size=upload.size or 0)
    filename = (upload.name or "upload").rsplit("/", 1)[-1][:200]
    width, height = _header_dimensions(upload)
    record = Record(
        vendor_id=project.vendor_id,
        project=project,
        original_filename=filename,
        content_type=content_type,
        size_bytes=upload.size,
        width=width,
        height=height,
    )
    record.original.save(stored_name(content_type), upload, save=False)
    record.save()
    return record


def _storage_reserve(*, vendor: Vendor, size: int) -> None:
    """Add `size` to the vendor's stored bytes if it fits its storage quota, in one UPDATE (so
    concurrent uploads cannot both take the last room); the caller's transaction gives it back
    if the upload then fails."""
    limit = vendor_limits(vendor=vendor)["storage_bytes_limit"]
    rows = Vendor.objects.filter(pk=vendor.pk)
    if limit is not None:
        rows = rows.filter(storage_bytes__lte=limit - size)
    if not rows.update(storage_bytes=F("storage_bytes") + size):
        used = Vendor.objects.filter(pk=vendor.pk).values_list("storage_bytes", flat=True).first() or 0
        raise StorageQuotaExceeded(used=used, limit=limit or 0, requested=size)


# Set while a service deletes records in bulk and gives their bytes back itself, in one UPDATE.
_bytes_given_back_in_bulk: ContextVar[bool] = ContextVar("bytes_given_back_in_bulk", default=False)


@contextmanager
def storage_given_back_in_bulk(*, vendor_id: int, size: int) -> Iterator[None]:
    """Delete records inside this block: their originals' `size` bytes are given back to the
    vendor's storage quota in one UPDATE, instead of one per record (on_record_deleted)."""
    reset = _bytes_given_back_in_bulk.set(True)
    try:
        yield
    finally:
        _bytes_given_back_in_bulk.reset(reset)
    if size:
        _storage_release(vendor_id=vendor_id, size=size)


def on_record_deleted(sender, instance: Record, **kwargs) -> None:
    """A record gone (deleted, or with its project or vendor): its original's bytes are free."""
    if instance.size_bytes and not _bytes_given_back_in_bulk.get():
        _storage_release(vendor_id=instance.vendor_id, size=instance.size_bytes)


def _storage_release(*, vendor_id: int, size: int) -> None:
    # Never below 0, and never computed below 0 either: MySQL refuses an unsigned column minus
    # more than it holds (error 1690) before any GREATEST could clamp it.
    Vendor.objects.filter(pk=vendor_id).update(storage_bytes=Greatest(F("storage_bytes"), size) - size)


_ORIENTATION = 0x0112  # EXIF
_TURNED_A_QUARTER = {5, 6, 7, 8}  # shown with width and height swapped


def _header_dimensions(upload: UploadedFile) -> tuple[int | None, int | None]:
    """Width and height as the photo is shown (a camera turned on its side says so in EXIF), from
    the header alone (no decoding); None for what is not an image. The worker checks the image
    properly before any work."""
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            width, height = img.size
            turned = img.getexif().get(_ORIENTATION) in _TURNED_A_QUARTER
            return (height, width) if turned else (width, height)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, None
    finally:
        upload.seek(0)


def vendor_set_paused(*, vendor: Vendor, paused: bool) -> None:
    """A paused vendor's waiting jobs hold (nothing is lost); resuming admits them again."""
    Vendor.objects.filter(pk=vendor.pk).update(is_paused=paused)
    vendor.is_paused = paused
    if not paused:
        _announce_limits_changed(vendor)


def vendor_update(
    *, vendor: Vendor, name: str, plan: Plan, is_active: bool, limit_overrides: dict[str, int | None]
) -> Vendor:
    """Change a vendor's plan, overrides (keys: the plan's limit fields) and standing. A larger
    in-flight cap or a reactivated vendor may let waiting jobs start, so admission runs after."""
    unknown = sorted(set(limit_overrides) - set(LIMIT_FIELDS))
    if unknown:
        raise ValueError(f"unknown limits {unknown}; use any of {list(LIMIT_FIELDS)}")
    Vendor.objects.filter(pk=vendor.pk).update(
        name=name, plan=plan, is_active=is_active, limit_overrides=limit_overrides
    )
    vendor.name, vendor.plan, vendor.is_active, vendor.limit_overrides = name, plan, is_active, limit_overrides
    _announce_limits_changed(vendor)
    return vendor


def _announce_limits_changed(vendor: Vendor) -> None:
    transaction.on_commit(lambda: vendor_limits_changed.send(sender=Vendor, vendor=vendor))
