"""The deletion journal: files to remove from storage, written in the same transaction as the
rows that named them are deleted, then removed in bounded batches through Django's storage API
(so every backend: local files, S3, Cloudinary). A storage that fails keeps its entries, tried
again with a backoff. The cost of a drain follows what was deleted, never what is stored: it
reads due entries by index and makes one storage call per file (a prefix entry: one listing of
its folder, then one call per file in it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone

from vendors.models import StorageDeletion

logger = logging.getLogger(__name__)

# Entries read (and files removed) per batch of a drain.
BATCH = 500
# A failed removal is tried again after RETRY_BASE_S * 2**attempts, at most RETRY_MAX_S.
RETRY_BASE_S = 30
RETRY_MAX_S = 6 * 3600


def storage_deletions_journal(
    *,
    names: Iterable[str] = (),
    prefixes: Iterable[str] = (),
    vendor_id: int | None,
    due_at: datetime | None = None,
    prefixes_due_at: datetime | None = None,
) -> list[int]:
    """Note files to remove (empty names skipped); call inside the transaction that deletes the
    rows naming them. A prefix stands for every file of its folder whose name starts with the
    rest (`results/3/<job>/` : the folder; `results/3/<job>/<token>.` : one run's file of any
    extension). Returns the entries' ids, for the caller to drain after commit."""
    now = timezone.now()
    rows = [
        StorageDeletion(name=name, vendor_id=vendor_id, due_at=due_at or now) for name in dict.fromkeys(names) if name
    ]
    rows += [
        StorageDeletion(name=prefix, prefix=True, vendor_id=vendor_id, due_at=prefixes_due_at or due_at or now)
        for prefix in dict.fromkeys(prefixes)
        if prefix and "/" in prefix
    ]
    if not rows:
        return []
    made = StorageDeletion.objects.bulk_create(rows, batch_size=BATCH)
    if made and made[0].pk is None:  # a backend that does not return ids (not MySQL/MariaDB ≥ 10.5)
        return []
    return [row.pk for row in made]


@dataclass(frozen=True)
class DrainReport:
    files: int  # storage objects removed (or found gone already)
    entries: int  # journal entries done
    failed: int  # entries left for a later try


def storage_deletions_drain(
    *, ids: list[int] | None = None, now: datetime | None = None, limit: int | None = None
) -> DrainReport:
    """Remove the files of due journal entries (only `ids`, when given), BATCH at a time, at
    most `limit` entries. An entry whose removal fails stays, due again after a backoff."""
    now = now or timezone.now()
    files = entries = failed = 0
    last_id = 0
    while limit is None or entries + failed < limit:
        due = StorageDeletion.objects.filter(due_at__lte=now, pk__gt=last_id).order_by("pk")
        if ids is not None:
            due = due.filter(pk__in=ids)
        size = BATCH if limit is None else min(BATCH, limit - entries - failed)
        batch = list(due[:size])
        if not batch:
            break
        last_id = batch[-1].pk
        done: list[int] = []
        for entry in batch:
            try:
                files += _remove(entry)
            except Exception as exc:  # the storage is away or refused: try again later
                failed += 1
                _postpone(entry, exc, now)
            else:
                done.append(entry.pk)
        StorageDeletion.objects.filter(pk__in=done).delete()
        entries += len(done)
    if failed:
        logger.warning("%s storage deletion(s) failed; they are tried again later", failed)
    return DrainReport(files=files, entries=entries, failed=failed)


def _remove(entry: StorageDeletion) -> int:
    if not entry.prefix:
        default_storage.delete(entry.name)
        _remove_empty_folders(entry.name)
        return 1
    folder, _, start = entry.name.rpartition("/")
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return 0
    except NotImplementedError:  # a backend that cannot list: only named files are removed
        logger.info("the storage cannot list %s; its prefix entry is dropped", folder)
        return 0
    removed = 0
    for name in names:
        if name.startswith(start):
            default_storage.delete(f"{folder}/{name}")
            removed += 1
    _remove_empty_folders(f"{folder}/-")
    return removed


def _remove_empty_folders(name: str) -> None:
    """On local files, the folder of one record's or job's files (`originals/<vendor>/<random>/`,
    `results/<vendor>/<job>/`, `thumbnails/<vendor>/<record>/`) goes once empty, so no id stays
    behind as a name. Never a vendor's folder: an upload may be creating a folder in it."""
    folder = name.rsplit("/", 1)[0]
    if folder.count("/") < 2:
        return
    try:
        path = default_storage.path(folder)
    except NotImplementedError:  # not on a file system: object stores have no folders
        return
    try:
        os.rmdir(path)
    except OSError:  # not empty, or gone
        pass


# The areas of storage whose second level is a vendor's id (processing/lib/media.py).
VENDOR_AREAS = ("originals", "results", "thumbnails", "exports")


def vendor_folders_remove(*, vendor_id: int) -> list[str]:
    """On local files, a gone vendor's own folders, emptied by its deletions (offboarding): the
    folders of its areas (and any empty ones left inside), so not even its id stays behind as a
    name. Never one that still holds a file. Object stores have no folders: nothing to do."""
    removed = []
    for area in VENDOR_AREAS:
        try:
            top = default_storage.path(f"{area}/{vendor_id}")
        except NotImplementedError:
            return removed
        for folder, _, _ in os.walk(top, topdown=False):  # the deepest first
            try:
                os.rmdir(folder)
            except OSError:  # not empty (or gone): kept
                continue
            removed.append(os.path.relpath(folder, default_storage.path("")))
    return removed


def _postpone(entry: StorageDeletion, exc: Exception, now: datetime) -> None:
    delay = min(RETRY_MAX_S, RETRY_BASE_S * 2**entry.attempts)
    logger.warning(
        "could not remove %s from storage (attempt %s): %r; trying again in %s s",
        entry.name,
        entry.attempts + 1,
        exc,
        delay,
        extra={"vendor": entry.vendor_id},
    )
    StorageDeletion.objects.filter(pk=entry.pk).update(
        attempts=F("attempts") + 1, due_at=now + timedelta(seconds=delay), last_error=repr(exc)[:255]
    )


def storage_deletions_pending() -> int:
    return StorageDeletion.objects.count()
