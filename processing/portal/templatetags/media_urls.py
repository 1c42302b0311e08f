"""`{{ record.original_thumbnail|media_url }}`: a stored file's URL under the private delivery
(processing/lib/media.py), never a FieldFile's own `.url`."""

from __future__ import annotations

from django import template

from processing.lib.media import media_url as _media_url

register = template.Library()


@register.filter
def media_url(file) -> str:
    name = getattr(file, "name", file)
    return _media_url(name) if name else ""
