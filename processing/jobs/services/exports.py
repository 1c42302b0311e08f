"""A vendor's export: a ZIP of a project, or of all its data (originals, results, and a manifest
as JSON and CSV), built in the background and kept downloadable for EXPORT_TTL_HOURS.

The archive is written to a temporary file on disk, each stored file copied into it CHUNK bytes
at a time, and the finished file handed to the storage in chunks too (Django's save reads it
piece by piece): at no point is a photo, let alone the ZIP, held in memory. The manifest is
written beside it into temporary files as the files go in, and copied in last. The Export row is
the truth: its state, progress, size and, once ready, the stored name (128 random bits in it).
Once expired, its file goes through the deletion journal like every other removal."""

from __future__ import annotations

import csv
import json
import logging
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from processing.jobs.models import Job
from vendors import audit
from vendors.models import Export, Project, Record, Vendor, export_name
from vendors.storage_journal import storage_deletions_drain, storage_deletions_journal

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Progress (and the build's heartbeat) is written to the row at most this often (seconds).
PROGRESS_EVERY_S = 1
# A running build silent this long (seconds) has lost its worker: a new message may take it over.
STALE_AFTER_S = 30 * 60
UNFINISHED = (Export.State.QUEUED, Export.State.RUNNING)

RECORD_COLUMNS = [
    "id",
    "project",
    "original_filename",
    "file",
    "size_bytes",
    "content_type",
    "width",
    "height",
    "processed_content_type",
    "processed_at",
    "created_at",
    "missing",
]
JOB_COLUMNS = [
    "id",
    "record",
    "kind",
    "params",
    "state",
    "input_url",
    "error_code",
    "result_file",
    "result_content_type",
    "result_size_bytes",
    "created_at",
    "started_at",
    "finished_at",
    "missing",
]


class ExportInProgress(Exception):
    """The vendor already has an export of the same data being built."""


class ExportNotReady(Exception):
    """There is no file to download: the export is not built yet, failed, or expired."""


class ExportGone(Exception):
    """The export was removed while it was built (its vendor offboarded, its project deleted)."""


def export_start(
    *, vendor: Vendor, project: Project | None, actor: AbstractBaseUser | None, operator: bool = False
) -> Export:
    """Note the export (queued) and its audit line; the caller has a worker build it after commit.
    One export of the same data at a time per vendor."""
    with transaction.atomic():
        Vendor.objects.select_for_update().filter(pk=vendor.pk).first()  # one start at a time per vendor
        scope = Export.Scope.PROJECT if project is not None else Export.Scope.ALL
        busy = Export.objects.filter(vendor=vendor, scope=scope, state__in=UNFINISHED)
        if project is not None:
            busy = busy.filter(project=project)
        if busy.exists():
            raise ExportInProgress(scope)
        export = Export.objects.create(
            vendor=vendor,
            scope=scope,
            project=project,
            project_name=project.name if project is not None else "",
            requested_by=actor,
        )
        audit.audit_log(
            action=audit.EXPORT_REQUESTED,
            vendor=vendor,
            target=f"export of project {project.pk} ({project.name})" if project else "export of all data",
            actor=actor,
            operator=operator,
            details={"export": str(export.pk)},
        )
    return export


def export_build(*, export_id: uuid.UUID) -> Export:
    """Build the export's ZIP and store it; safe to run again (an unfinished build starts over,
    a finished one is left as it is). A build whose export was removed meanwhile stores nothing."""
    export = Export.objects.select_related("vendor").filter(pk=export_id).first()
    if export is None or not _claim(export):
        return export  # gone, finished, or being built by a live worker
    records = _records(export)
    jobs = _jobs(export)
    total = records.count() + jobs.exclude(result__isnull=True).count()
    _update(export, total=total, done=0, error="")
    try:
        name, size = _write(export, records, jobs)
    except ExportGone:
        logger.info("export %s was removed while it was built; nothing stored", export.pk)
        return export
    except Exception as exc:
        _update(export, state=Export.State.FAILED, error=repr(exc)[:255], finished_at=timezone.now())
        raise
    now = timezone.now()
    try:
        _update(
            export,
            state=Export.State.READY,
            file=name,
            size_bytes=size,
            done=total,
            finished_at=now,
            expires_at=now + timedelta(hours=settings.EXPORT_TTL_HOURS),
        )
    except ExportGone:
        # Removed as it was being stored: the file is nobody's, it goes at once.
        with transaction.atomic():
            journal = storage_deletions_journal(names=[name], vendor_id=export.vendor_id)
        storage_deletions_drain(ids=journal)
        return export
    logger.info("export %s ready: %s files, %s bytes", export.pk, total, size, extra={"vendor": export.vendor_id})
    export.refresh_from_db()
    return export


def _claim(export: Export) -> bool:
    """Take the build: a queued export, or a running one whose build has been silent for
    STALE_AFTER_S (its worker died; the message came again). Two builds never run at once."""
    now = timezone.now()
    stale = Q(state=Export.State.RUNNING) & (Q(heartbeat_at__lt=now - timedelta(seconds=STALE_AFTER_S)))
    return bool(
        Export.objects.filter(Q(state=Export.State.QUEUED) | stale, pk=export.pk).update(
            state=Export.State.RUNNING, heartbeat_at=now
        )
    )


def _records(export: Export):
    records = Record.objects.filter(vendor_id=export.vendor_id)
    if export.scope == Export.Scope.PROJECT:
        records = records.filter(project_id=export.project_id)
    return records.select_related("project").order_by("pk")


def _jobs(export: Export):
    jobs = Job.objects.filter(vendor_id=export.vendor_id)
    if export.scope == Export.Scope.PROJECT:
        jobs = jobs.filter(record__project_id=export.project_id)
    return jobs.select_related("batch").order_by("created_at", "pk")


def _update(export: Export, **fields) -> None:
    """Write to the export's row, unless it is gone (or no longer being built): ExportGone."""
    if not Export.objects.filter(pk=export.pk, state__in=UNFINISHED).update(heartbeat_at=timezone.now(), **fields):
        raise ExportGone(export.pk)


def _folder(text: str, fallback: str) -> str:
    return slugify(text)[:60] or fallback


def _copy(archive: zipfile.ZipFile, arcname: str, storage_name: str) -> int | None:
    """Copy a stored file into the archive CHUNK at a time; its size, or None if it is gone."""
    try:
        source = default_storage.open(storage_name, "rb")
    except FileNotFoundError:
        return None
    size = 0
    with source, archive.open(arcname, "w", force_zip64=True) as target:
        while chunk := source.read(CHUNK):
            target.write(chunk)
            size += len(chunk)
    return size


def _copy_text(archive: zipfile.ZipFile, arcname: str, text: IO[str]) -> None:
    text.seek(0)
    with archive.open(arcname, "w", force_zip64=True) as target:
        while chunk := text.read(CHUNK):
            target.write(chunk.encode())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _write(export: Export, records, jobs) -> tuple[str, int]:
    done = 0
    written = time.monotonic()

    def progressed() -> None:
        nonlocal done, written
        done += 1
        if time.monotonic() - written >= PROGRESS_EVERY_S:
            _update(export, done=done)
            written = time.monotonic()

    with (
        tempfile.TemporaryFile(prefix="darkroom-export-") as zipped,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as manifest,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as records_csv,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as jobs_csv,
    ):
        with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            manifest.write(json.dumps(_header(export))[:-1] + ', "records": [')
            rows = csv.DictWriter(records_csv, fieldnames=RECORD_COLUMNS)
            rows.writeheader()
            paths: dict[int, str] = {}
            for index, record in enumerate(_iterate(records)):
                folder = f"originals/{_folder(record.project.name, f'project-{record.project_id}')}"
                path = f"{folder}/{record.pk}-{PurePosixPath(record.original_filename or record.original.name).name}"
                size = _copy(archive, path, record.original.name) if record.original else None
                paths[record.pk] = path
                entry = {
                    "id": record.pk,
                    "project": record.project.name,
                    "original_filename": record.original_filename,
                    "file": path if size is not None else None,
                    "size_bytes": size if size is not None else record.size_bytes,
                    "content_type": record.content_type,
                    "width": record.width,
                    "height": record.height,
                    "processed_content_type": record.processed_content_type,
                    "processed_at": _iso(record.processed_at),
                    "created_at": _iso(record.created_at),
                    "missing": size is None,
                }
                manifest.write(("," if index else "") + json.dumps(entry))
                rows.writerow(entry)
                progressed()
            manifest.write('], "jobs": [')
            rows = csv.DictWriter(jobs_csv, fieldnames=JOB_COLUMNS)
            rows.writeheader()
            for index, job in enumerate(_iterate(jobs)):
                result = job.result or {}
                path = size = None
                if result.get("name"):
                    stem = PurePosixPath(paths.get(job.record_id, f"job-{job.pk}")).stem
                    folder = PurePosixPath(paths[job.record_id]).parent.name if job.record_id in paths else "no-record"
                    path = f"results/{folder}/{stem}-{job.kind}-{job.pk}{PurePosixPath(result['name']).suffix}"
                    size = _copy(archive, path, result["name"])
                    progressed()
                entry = {
                    "id": str(job.pk),
                    "record": job.record_id,
                    "kind": job.kind,
                    "params": job.run_params,
                    "state": job.state,
                    "input_url": job.input_url,
                    "error_code": job.error_code,
                    "result_file": path if size is not None else None,
                    "result_content_type": result.get("content_type"),
                    "result_size_bytes": size,
                    "created_at": _iso(job.created_at),
                    "started_at": _iso(job.started_at),
                    "finished_at": _iso(job.finished_at),
                    "missing": bool(result.get("name")) and size is None,
                }
                manifest.write(("," if index else "") + json.dumps(entry))
                rows.writerow({**entry, "params": json.dumps(entry["params"], sort_keys=True)})
            manifest.write("]}")
            _copy_text(archive, "manifest.json", manifest)
            _copy_text(archive, "records.csv", records_csv)
            _copy_text(archive, "jobs.csv", jobs_csv)
        size = zipped.tell()
        zipped.seek(0)
        _update(export, done=done)  # still wanted: store it
        filename = f"darkroom-{export.vendor.slug}-{_scope_label(export)}-{timezone.now():%Y%m%d-%H%M}.zip"
        name = default_storage.save(export_name(export.vendor_id, filename), File(zipped, name=filename))
    return name, size


def _scope_label(export: Export) -> str:
    return _folder(export.project_name, "project") if export.scope == Export.Scope.PROJECT else "all"


def _header(export: Export) -> dict:
    return {
        "export": str(export.pk),
        "vendor": export.vendor.slug,
        "scope": export.scope,
        "project": export.project_name or None,
        "created_at": _iso(export.created_at),
    }


def _iterate(queryset) -> Iterator:
    """Rows in pages of 500 by primary key order of the query, never all at once in memory."""
    return queryset.iterator(chunk_size=500)


def exports_expire(*, now: datetime | None = None) -> int:
    """Ready exports past their expiry: their file into the deletion journal, the row kept as
    `expired`. Builds never started, or silent (their worker died) for the builder's time limit,
    are marked failed. Returns how
    many expired; the caller drains the journal."""
    now = now or timezone.now()
    given_up = Q(state=Export.State.QUEUED, created_at__lt=now - timedelta(seconds=2 * EXPORT_TIME_LIMIT_S))
    given_up |= Q(state=Export.State.RUNNING, heartbeat_at__lt=now - timedelta(seconds=EXPORT_TIME_LIMIT_S))
    Export.objects.filter(given_up).update(
        state=Export.State.FAILED, error="the build stopped; ask for a new export", finished_at=now
    )
    expired = 0
    while batch := list(
        Export.objects.filter(state=Export.State.READY, expires_at__lte=now).values_list("pk", "file", "vendor_id")[
            :500
        ]
    ):
        with transaction.atomic():
            for _, name, vendor_id in batch:
                storage_deletions_journal(names=[name], vendor_id=vendor_id)
            expired += Export.objects.filter(pk__in=[pk for pk, _, _ in batch], state=Export.State.READY).update(
                state=Export.State.EXPIRED, file=""
            )
    return expired


def exports_discard(*, vendor: Vendor, query: Q) -> list[int]:
    """Remove the vendor's exports matching `query` (those that hold only data being deleted):
    files into the journal, rows gone. Call inside the deleting transaction; returns the journal
    entries for the caller to drain after commit."""
    exports = list(Export.objects.filter(query, vendor=vendor).values_list("pk", "file"))
    journal = storage_deletions_journal(names=[name for _, name in exports], vendor_id=vendor.pk)
    Export.objects.filter(pk__in=[pk for pk, _ in exports]).delete()
    return journal


# The builder's time limit (ms in the actor); a build older than twice this is given up.
EXPORT_TIME_LIMIT_S = 2 * 60 * 60


def export_download_url(*, export: Export, request=None, portal: bool = False) -> str | None:
    """The one place an export's download link is made (API, portal, admin): today Darkroom's
    access-checked view (the API's, or the portal's for the vendor chosen in its session); a
    signed, expiring storage URL when media is delivered that way. None while there is nothing
    to download."""
    if export.state != Export.State.READY or not export.file:
        return None
    if portal:
        path = reverse("portal:export-download", kwargs={"pk": export.pk})
    else:
        path = reverse("export-download", kwargs={"export_id": export.pk})
    return request.build_absolute_uri(path) if request is not None else path


def export_open(*, export: Export, actor: AbstractBaseUser, operator: bool = False) -> tuple[IO[bytes], str]:
    """The export's ZIP opened from storage, and its file name, for a download (an audit line
    says who took it). ExportNotReady unless it is ready."""
    if export.state != Export.State.READY or not export.file:
        raise ExportNotReady(export.pk)
    try:
        source = default_storage.open(export.file, "rb")
    except FileNotFoundError:
        raise ExportNotReady(export.pk) from None
    audit.audit_log(
        action=audit.EXPORT_DOWNLOADED,
        vendor=export.vendor,
        target=f"export {export.pk}",
        actor=actor,
        operator=operator,
        details={"export": str(export.pk)},
    )
    return source, export.file.rsplit("/", 1)[-1]
