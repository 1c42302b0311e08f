"""What the local media storage holds, listed from the file system itself (not through Darkroom)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def stored_files(*tops: str) -> set[str]:
    """Every file under MEDIA_ROOT (or under its folders `tops`), as storage names."""
    root = Path(settings.MEDIA_ROOT)
    found: set[str] = set()
    for top in tops or ("",):
        for folder, _, files in os.walk(root / top):
            found.update(str((Path(folder) / name).relative_to(root)) for name in files)
    return found


def stored_folders(top: str) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(Path(folder).relative_to(root)) for folder, _, _ in os.walk(root / top)}


def record_files(record) -> set[str]:
    """The storage names a record holds: original, result, their previews."""
    names = (record.original, record.processed, record.original_thumbnail, record.processed_thumbnail)
    return {field.name for field in names if field}
