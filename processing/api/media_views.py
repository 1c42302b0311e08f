"""The only way a stored file leaves Darkroom itself: `/media/<name>`, under MEDIA_DELIVERY.

- `signed`: the link's signature and expiry are checked (processing/lib/media.py); who asks
  does not matter, the link is the permission.
- `proxied`: the caller must be a member of the vendor the name belongs to, or an operator:
  signed in (the portal's session) or with an API key (`Authorization: Token <key>`).

Whatever fails — no such file, a forged or expired link, a stranger, another vendor — gets the
same 404, so an answer never tells whether a file exists. A file is streamed from the storage,
or handed to the front proxy with X-Accel-Redirect when MEDIA_ACCEL_REDIRECT names its internal
location (local files only)."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponse
from django.views.decorators.http import require_safe
from rest_framework.exceptions import AuthenticationFailed

from processing.api.authentication import ApiTokenAuthentication
from processing.lib import media
from processing.lib.http.stored_files import protect_stored_file
from processing.lib.problems import problem_response
from vendors.selectors import user_reads_vendor


def _not_found():
    response = problem_response(code="not_found", detail="no such file, or the link has expired", status=404)
    response["Cache-Control"] = "no-store"
    return response


def _caller(request):
    """The signed-in user, or the owner of the API key the request carries (None: neither)."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = ApiTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def _entitled(request, name: str, vendor_id: int) -> tuple[bool, str]:
    """(may the caller have the file, its Cache-Control)."""
    if settings.MEDIA_DELIVERY == media.SIGNED:
        expires = request.GET.get("expires")
        if not media.media_signature_valid(name, expires, request.GET.get("signature")):
            return False, ""
        return True, f"private, max-age={media.media_seconds_left(expires)}"
    return user_reads_vendor(user=_caller(request), vendor_id=vendor_id), "private, no-cache"


def _file_response(name: str):
    if settings.MEDIA_ACCEL_REDIRECT and isinstance(default_storage, FileSystemStorage):
        if not default_storage.exists(name):
            return None
        response = HttpResponse(content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + quote(name)
        return response
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return FileResponse(handle)


@require_safe
def media_view(request, path: str):
    vendor_id = media.media_vendor_id(path)
    if vendor_id is None:
        return _not_found()
    allowed, cache_control = _entitled(request, path, vendor_id)
    if not allowed:
        return _not_found()
    try:
        response = _file_response(path)
    except SuspiciousFileOperation:
        response = None
    if response is None:
        return _not_found()
    response["Cache-Control"] = cache_control
    return protect_stored_file(response)
