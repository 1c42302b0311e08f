"""Media and static files: local, S3 or Cloudinary, and how stored files are delivered."""

from pathlib import Path

import environ

from config.env import BASE_DIR, env

# --- Storage: local files by default; S3 (django-storages) or Cloudinary by setting.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = env("MEDIA_URL", default="/media/")
# Media is private (processing/lib/media.py, docs/data.md "Who can read what"). `signed`: links
# that work for MEDIA_URL_EXPIRE_S (local files signed by Darkroom, S3 presigned, Cloudinary
# authenticated and signed); `proxied`: /media/<name> answered only to the vendor's members and
# operators, after a check on each request.
MEDIA_DELIVERY = env("MEDIA_DELIVERY", default="signed")
if MEDIA_DELIVERY not in ("signed", "proxied"):
    raise environ.ImproperlyConfigured(f"MEDIA_DELIVERY must be signed or proxied, not {MEDIA_DELIVERY!r}")
MEDIA_URL_EXPIRE_S = env.int("MEDIA_URL_EXPIRE_S", default=3600)
# Local files only: hand a checked request's file to the front proxy (nginx's X-Accel-Redirect)
# at this internal location (e.g. /_media/, an `internal` alias of MEDIA_ROOT) instead of
# streaming it from Python. Empty: Darkroom streams the file itself.
MEDIA_ACCEL_REDIRECT = env("MEDIA_ACCEL_REDIRECT", default="")
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_URL = "/static/"
STORAGE_BACKEND = env("STORAGE_BACKEND", default="local")
_STORAGE_BACKENDS = {
    "local": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME", default=""),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "file_overwrite": False,
            "querystring_auth": True,  # presigned URLs: a bucket's objects are never public
            "querystring_expire": env.int("MEDIA_URL_EXPIRE_S", default=3600),
            "default_acl": "private",
            "signature_version": "s3v4",  # presigned URLs that carry their own expiry
        },
    },
    # Images as Cloudinary `image` resources, JSON results as `raw`; see the module.
    "cloudinary": {"BACKEND": "processing.lib.cloudinary_storage.CloudinaryStorage"},
}
if STORAGE_BACKEND not in _STORAGE_BACKENDS:
    raise environ.ImproperlyConfigured(
        f"STORAGE_BACKEND must be one of {sorted(_STORAGE_BACKENDS)}, not {STORAGE_BACKEND!r}"
    )
STORAGES = {
    "default": _STORAGE_BACKENDS[STORAGE_BACKEND],
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# cloudinary://api_key:api_secret@cloud_name; the storage hands it to the SDK itself.
CLOUDINARY_URL = env("CLOUDINARY_URL", default="")
if STORAGE_BACKEND == "cloudinary" and not CLOUDINARY_URL:
    raise environ.ImproperlyConfigured("STORAGE_BACKEND=cloudinary needs CLOUDINARY_URL")
