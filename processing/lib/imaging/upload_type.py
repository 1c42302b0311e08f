"""What an upload is, decided from its bytes alone: the client's name and Content-Type are
display metadata, never what is stored or served."""

from __future__ import annotations

from typing import Protocol

from processing.lib.errors import UnsupportedImage
from processing.lib.imaging.sniff import ACCEPTED_NAMES, ALLOWED_CONTENT_TYPES, sniff_content_type

# The raster formats we accept, and the extension a stored file of each gets.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/heic": "heic",
    "image/avif": "avif",
}
assert set(EXTENSIONS) == ALLOWED_CONTENT_TYPES

_HEAD = 1024  # enough for every signature sniff_content_type knows, SVG's included


class Readable(Protocol):
    """A file opened for reading bytes, such as an upload."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def read(self, size: int = ..., /) -> bytes: ...


def upload_content_type(upload: Readable) -> str:
    """The allowed raster type the upload's leading bytes announce; UnsupportedImage for anything else: HTML, SVG, PDF, scripts, unknown bytes. The upload's
    position is left at the start."""
    upload.seek(0)
    head = upload.read(_HEAD)
    upload.seek(0)
    detected = sniff_content_type(head)
    if detected not in ALLOWED_CONTENT_TYPES:
        raise UnsupportedImage(
            f"the upload is not an image Darkroom accepts (detected: {detected or 'unknown'}); send {ACCEPTED_NAMES}",
        )
    return detected


def stored_name(content_type: str, stem: str = "original") -> str:
    """A server-chosen file name for an accepted upload: the extension follows the bytes."""
    return f"{stem}.{EXTENSIONS[content_type]}"
