"""Headers for answering with a stored file (an upload or a result), so that whatever bytes a
file holds, a browser never runs them as a page of our origin."""

from __future__ import annotations

from typing import TypeVar

from django.http.response import HttpResponseBase

R = TypeVar("R", bound=HttpResponseBase)

# No scripts, no plugins, no frames, no requests of its own; sandboxed as if from another origin.
STORED_FILE_CSP = "default-src 'none'; img-src 'self'; sandbox"

# Raster types we write ourselves; only these are shown inline, everything else is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff"})


def protect_stored_file(response: R) -> R:
    """Set nosniff and a sandboxing CSP; a file that is not one of our raster types, or that
    the response already offers as a download, is an attachment. Returns the response."""
    content_type = (response.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = STORED_FILE_CSP
    if (response.get("Content-Disposition") or "").startswith("attachment"):
        return response
    response["Content-Disposition"] = "inline" if content_type in INLINE_TYPES else "attachment"
    return response
