"""A Django storage on Cloudinary, built on the `cloudinary` SDK alone.

Images are uploaded as Cloudinary's `image` resource type and everything else (JSON results, any
name without an image extension) as `raw`, which is the only type Cloudinary accepts arbitrary
bytes as. The resource type is derived from the name's extension every time, so a name is all the
storage needs to find a file again.

Names map to public ids deterministically: `results/3/8f…/ab12.png` is the image
`results/3/8f…/ab12` (Cloudinary keeps an image's format apart from its id), and
`results/3/8f…/ab12.json` is the raw file `results/3/8f…/ab12.json` (a raw id keeps its
extension). `_save` returns the name it was given, so what the application stores is the name,
never a Cloudinary-specific id.

Credentials come from the CLOUDINARY_URL setting (`cloudinary://key:secret@cloud`, optionally
with SDK options as a query: `?secure=false&upload_prefix=…`), passed explicitly to the SDK; the
process environment is not relied on.

`exists` and `size` ask the Admin API, which Cloudinary rate-limits per hour; uploads, deletes and
reads do not use it.

Nothing is public: files are stored with the `authenticated` delivery type, which Cloudinary
serves only on a signed request, and `url` is a signed download link that stops working after
`expire_s` (MEDIA_URL_EXPIRE_S; Cloudinary's `private_download_url` with `expires_at`). The
`upload` type, public to anyone with the URL, is there only for a deployment that asks for it.

This module imports nothing from the project.
"""

from __future__ import annotations

import mimetypes
import posixpath
import time
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary
import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

IMAGE = "image"
RAW = "raw"
AUTHENTICATED = "authenticated"  # delivered only on a signed request
PUBLIC = "upload"  # Cloudinary's default: anyone with the URL
# How many other names `_save` tries when Cloudinary already has the one asked for.
MAX_NAME_ATTEMPTS = 20


def parse_cloudinary_url(url: str) -> dict[str, Any]:
    """The SDK options a `cloudinary://api_key:api_secret@cloud_name[/secure_distribution]?opt=…`
    URL stands for, as the SDK itself reads it from the environment."""
    parts = urlsplit(url)
    if parts.scheme != "cloudinary" or not parts.hostname:
        raise ImproperlyConfigured("CLOUDINARY_URL must look like cloudinary://api_key:api_secret@cloud_name")
    options: dict[str, Any] = {
        "cloud_name": parts.hostname,
        "api_key": unquote(parts.username or ""),
        "api_secret": unquote(parts.password or ""),
        "secure": True,
    }
    if parts.path.strip("/"):
        options.update(private_cdn=True, secure_distribution=parts.path.strip("/"))
    for key, value in parse_qsl(parts.query):
        options[key] = {"true": True, "false": False}.get(value.lower(), value)
    return options


def resource_type(name: str) -> str:
    """`image` for names with an image extension, `raw` for everything else."""
    content_type, _ = mimetypes.guess_type(name, strict=False)
    return IMAGE if content_type and content_type.startswith("image/") else RAW


@deconstructible
class CloudinaryStorage(Storage):
    """Files on Cloudinary, `authenticated` delivery type, images as `image` and the rest as `raw`."""

    def __init__(
        self,
        cloudinary_url: str | None = None,
        folder: str = "",
        delivery_type: str = AUTHENTICATED,
        expire_s: int | None = None,
    ):
        self.cloudinary_url = cloudinary_url if cloudinary_url is not None else settings.CLOUDINARY_URL
        if not self.cloudinary_url:
            raise ImproperlyConfigured("The Cloudinary storage needs CLOUDINARY_URL")
        if delivery_type not in (AUTHENTICATED, PUBLIC):
            raise ImproperlyConfigured(f"delivery_type must be {AUTHENTICATED} or {PUBLIC}")
        self.folder = folder.strip("/")
        self.delivery_type = delivery_type
        self.expire_s = expire_s if expire_s is not None else getattr(settings, "MEDIA_URL_EXPIRE_S", 3600)
        cloudinary.config(**parse_cloudinary_url(self.cloudinary_url))
        self._http: urllib3.PoolManager | None = None

    # --- Names and ids.

    def _public_id(self, name: str) -> str:
        name = name.replace("\\", "/").lstrip("/")
        if self.folder:
            name = f"{self.folder}/{name}"
        if resource_type(name) == IMAGE:
            return posixpath.splitext(name)[0]
        return name

    def _format(self, name: str) -> str | None:
        if resource_type(name) == IMAGE:
            return posixpath.splitext(name)[1].lstrip(".").lower() or None
        return None

    def _where(self, name: str) -> dict[str, Any]:
        return {"resource_type": resource_type(name), "type": self.delivery_type}

    # --- Storage API.

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Asking the Admin API whether each name exists would spend its hourly quota on every
        # save; `_save` uploads without overwriting and learns it from the answer instead.
        name = name.replace("\\", "/")
        if max_length is not None and len(name) > max_length:
            return super().get_available_name(name, max_length)
        return name

    def _save(self, name: str, content: File[Any]) -> str:
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        root, ext = posixpath.splitext(name)
        for _ in range(MAX_NAME_ATTEMPTS):
            response = cloudinary.uploader.upload(
                (posixpath.basename(name), data),
                public_id=self._public_id(name),
                resource_type=resource_type(name),
                type=self.delivery_type,
                overwrite=False,
                unique_filename=False,
                use_filename=False,
            )
            if not response.get("existing"):
                return name
            name = self.get_alternative_name(root, ext)  # taken: root_<7 random chars><ext>
        raise OSError(f"Cloudinary already has {root}{ext} and {MAX_NAME_ATTEMPTS - 1} other names tried")

    def _open(self, name: str, mode: str = "rb") -> ContentFile[bytes]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("The Cloudinary storage opens files for reading only")
        if self._http is None:
            self._http = urllib3.PoolManager()
        response = self._http.request("GET", self.url(name), preload_content=True, retries=False)
        if response.status == 404:
            raise FileNotFoundError(name)
        if response.status != 200:
            raise OSError(f"Cloudinary answered {response.status} for {name!r}")
        return ContentFile(response.data, name=name)

    def exists(self, name: str) -> bool:
        try:
            cloudinary.api.resource(self._public_id(name), **self._where(name))
        except cloudinary.exceptions.NotFound:
            return False
        return True

    def size(self, name: str) -> int:
        try:
            return int(cloudinary.api.resource(self._public_id(name), **self._where(name))["bytes"])
        except cloudinary.exceptions.NotFound as exc:
            raise FileNotFoundError(name) from exc

    def delete(self, name: str) -> None:
        response = cloudinary.uploader.destroy(self._public_id(name), invalidate=True, **self._where(name))
        if response.get("result") not in ("ok", "not found"):
            raise OSError(f"Cloudinary did not delete {name!r}: {response}")

    def make_private(self, name: str) -> bool:
        """Move a file stored before as a public `upload` asset to this storage's `authenticated`
        type, under the same public id. False when there is no public asset of that name (moved
        already, or never stored so)."""
        if self.delivery_type == PUBLIC:
            return False
        try:
            cloudinary.uploader.rename(
                self._public_id(name),
                self._public_id(name),
                resource_type=resource_type(name),
                type=PUBLIC,
                to_type=self.delivery_type,
                invalidate=True,
            )
        except cloudinary.exceptions.NotFound:
            return False
        return True

    def url(self, name: str | None) -> str:
        """A signed link to the file that works for `expire_s` seconds (or, for the public
        `upload` type only, its plain delivery URL)."""
        if name is None:
            raise ValueError("a stored file's URL needs its name")
        options = self._where(name)
        if self.delivery_type == PUBLIC:
            if (format_ := self._format(name)) is not None:
                options["format"] = format_
            return str(cloudinary.utils.cloudinary_url(self._public_id(name), **options)[0])
        expires_at = int(time.time()) + self.expire_s
        return str(
            cloudinary.utils.private_download_url(
                self._public_id(name), self._format(name), expires_at=expires_at, **options
            )
        )
