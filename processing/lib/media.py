"""Private media: how stored files are named, and the one place that says at which URL a stored
file can be fetched.

Every name Darkroom stores begins `<area>/<vendor id>/`, followed somewhere by at least 128
random bits (`private_part`), so no name can be guessed or counted. Nothing is public: a file is
delivered in one of two ways, chosen by MEDIA_DELIVERY (docs/data.md, "Who can read what"):

- `signed`: a link that works for anyone holding it until it expires (MEDIA_URL_EXPIRE_S).
  Local files get `/media/<name>?expires=…&signature=…`, signed with the secret key
  (django.core.signing) and checked by the media view; S3 presigned URLs (django-storages'
  `querystring_auth`/`querystring_expire`) and Cloudinary's signed, expiring links for its
  `authenticated` delivery type are made by the storage itself.
- `proxied`: `/media/<name>`, answered by the media view only to a member of the vendor the
  name belongs to (or an operator), streamed from the storage or handed to the front proxy
  with X-Accel-Redirect (MEDIA_ACCEL_REDIRECT).

This module imports nothing from the project.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.utils.crypto import constant_time_compare

SIGNED = "signed"
PROXIED = "proxied"
DELIVERIES = (SIGNED, PROXIED)
# The areas a stored name may begin with; the second part of every name is its vendor's id.
AREAS = frozenset({"originals", "results", "thumbnails", "exports"})
_SALT = "darkroom.media"
RANDOM_BYTES = 16  # 128 bits


def private_part() -> str:
    """128 random bits, as 32 hex characters: the unguessable part of every stored name."""
    return secrets.token_hex(RANDOM_BYTES)


def media_vendor_id(name: str) -> int | None:
    """The id of the vendor a stored name belongs to (`<area>/<vendor id>/…`), or None for a
    name that is not one Darkroom makes (which no one may then read through the media view)."""
    parts = name.split("/")
    if len(parts) < 3 or parts[0] not in AREAS or not parts[1].isascii() or not parts[1].isdigit():
        return None
    if any(part in ("", ".", "..") for part in parts) or "\\" in name or "\x00" in name:
        return None
    return int(parts[1])


def _signs_itself(storage: Storage) -> bool:
    """Files a storage hands out by URL itself (S3, Cloudinary); local files go through Darkroom."""
    return not isinstance(storage, FileSystemStorage)


def _expiry(now: float) -> int:
    """When a link made now stops working: MEDIA_URL_EXPIRE_S from now, rounded up to a step so
    that a page shown twice in a row names the same URLs (and the browser's cache serves them)."""
    ttl = settings.MEDIA_URL_EXPIRE_S
    step = min(300, max(1, ttl // 10))
    return int(math.ceil((now + ttl) / step) * step)


def _signature(name: str, expires: int) -> str:
    return signing.Signer(salt=_SALT).signature(f"{expires}:{name}")


def media_url(name: str, *, absolute: Callable[[str], str] | None = None) -> str:
    """The URL at which a stored file can be fetched, under the configured delivery. `absolute`
    (e.g. request.build_absolute_uri) turns a site-relative URL into an absolute one."""
    if settings.MEDIA_DELIVERY == SIGNED and _signs_itself(default_storage):
        return str(default_storage.url(name))
    url = settings.MEDIA_URL + quote(name)
    if settings.MEDIA_DELIVERY == SIGNED:
        expires = _expiry(time.time())
        url += "?" + urlencode({"expires": expires, "signature": _signature(name, expires)})
    return absolute(url) if absolute is not None else url


def media_signature_valid(name: str, expires: str | None, signature: str | None, *, now: float | None = None) -> bool:
    """A signed local link is genuine and has not expired."""
    if not expires or not signature or not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) <= (time.time() if now is None else now):
        return False
    return constant_time_compare(signature, _signature(name, int(expires)))


def media_seconds_left(expires: str | None, *, now: float | None = None) -> int:
    """How long a (valid) signed link still works; 0 for one without an expiry."""
    if not expires or not expires.isdigit():
        return 0
    return max(0, int(expires) - int(time.time() if now is None else now))
