"""Services that write a record's previews: a small WebP of its original or of its processed
image, made off the request path (by the engine's thumbnail actor) and stored by name."""

from __future__ import annotations

import logging
from typing import Literal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from processing.lib.imaging.thumbnail import thumbnail
from processing.lib.media import RANDOM_BYTES, private_part
from vendors.models import Record

logger = logging.getLogger(__name__)

Which = Literal["original", "processed"]
WHICH: tuple[Which, ...] = ("original", "processed")


def record_thumbnail_make(*, record_id: int, which: Which) -> str | None:
    """Make and store the preview of the record's current original or processed image, unless
    it has one for that very image. Returns the preview's name, or None when there is nothing
    (left) to preview: no such record, no processed image yet, or the image changed meanwhile.

    Raises the library's InvalidImage / ImageTooLarge for a file it cannot read.
    """
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}")
    record = Record.objects.filter(pk=record_id).only(which, f"{which}_thumbnail", "vendor_id").first()
    source = getattr(record, which).name if record else ""
    if not source:
        return None
    current = getattr(record, f"{which}_thumbnail").name
    if current and _previews(current, which, source):
        return current

    with default_storage.open(source, "rb") as file:
        data = file.read()
    preview = thumbnail(data, max_bytes=max(settings.IMAGE_MAX_BYTES, len(data)), max_pixels=settings.IMAGE_MAX_PIXELS)
    name = default_storage.save(preview_name(record=record, which=which, source=source), ContentFile(preview.data))
    # Applied only while the image is still the one previewed (a newer result keeps its own) and
    # no other run stored a preview meanwhile (whose file would be left behind, named by nothing);
    # never to a record deleted meanwhile.
    applied = Record.objects.filter(pk=record_id, **{which: source, f"{which}_thumbnail": current}).update(
        **{f"{which}_thumbnail": name}
    )
    if not applied:
        default_storage.delete(name)
        return None
    preview_discard(name=current)
    return name


def preview_discard(*, name: str) -> None:
    """Remove a preview file that nothing names any more; a name that is not a preview (a
    small result is its own preview) is left alone, as its job's result."""
    if name and name.startswith("thumbnails/"):
        default_storage.delete(name)


def _stem(source: str) -> str:
    return source.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def preview_name(*, record: Record, which: Which, source: str) -> str:
    """thumbnails/<vendor id>/<128 random bits>/<which>-<source's stem>.webp: nothing in it can
    be counted (processing/lib/media.py); the file's name still says which image it previews."""
    return f"thumbnails/{record.vendor_id}/{private_part()}/{which}-{_stem(source)}.webp"


def _previews(name: str, which: Which, source: str) -> bool:
    """Is `name` a preview of this very image (made after the naming with random folders)?"""
    parts = name.split("/")
    return len(parts) == 4 and len(parts[2]) == 2 * RANDOM_BYTES and parts[3] == f"{which}-{_stem(source)}.webp"
