"""Results leave through these views only, scoped by vendor, streamed from storage."""

from __future__ import annotations

from pathlib import PurePath

from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.views.decorators.http import require_GET

from processing.jobs import selectors
from processing.jobs.states import JobState
from processing.lib.found import found
from processing.lib.http.stored_files import protect_stored_file
from processing.portal.vendor_context import vendor_view
from processing.portal.zip_stream import astream_zip, stream_zip
from vendors import selectors as vendor_selectors


def _download_name(original: str, kind: str, storage_name: str) -> str:
    return f"{PurePath(original or 'image').stem}-{kind}{PurePath(storage_name).suffix}"


def _file(storage_name: str, filename: str) -> FileResponse:
    if not default_storage.exists(storage_name):
        raise Http404("the result file is gone")
    response = FileResponse(default_storage.open(storage_name, "rb"), as_attachment=True, filename=filename)
    return protect_stored_file(response)


@require_GET
@vendor_view
def job_download(request, pk, *, vendor):
    job = selectors.job_get(vendor=vendor, job_id=pk)
    if job is None or not (job.result or {}).get("name"):
        raise Http404("no result for this job")
    original = job.record.original_filename if job.record else ""
    return _file(job.result["name"], _download_name(original, job.kind, job.result["name"]))


@require_GET
@vendor_view
def record_download(request, pk, *, vendor):
    record = vendor_selectors.record_get(vendor=vendor, record_id=pk)
    if record is None or not record.processed:
        raise Http404("no processed image for this record")
    return _file(record.processed.name, _download_name(record.original_filename, "processed", record.processed.name))


@require_GET
@vendor_view
def batch_download(request, pk, *, vendor):
    batch = found(selectors.batch_get(vendor=vendor, batch_id=pk), "batch")
    jobs = [j for j in selectors.batch_jobs(batch=batch) if j.state == JobState.SUCCEEDED and j.result]
    if not jobs:
        raise Http404("nothing in this batch has finished yet")
    entries, used = [], set()
    for job in jobs:
        name = _download_name(job.record.original_filename if job.record else "", job.kind, job.result["name"])
        if name in used:  # two photos with one filename
            name = f"{PurePath(name).stem}-{job.pk.hex[:8]}{PurePath(name).suffix}"
        used.add(name)
        entries.append((name, job.result["name"]))
    stream = astream_zip(entries) if isinstance(request, ASGIRequest) else stream_zip(entries)
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{batch.kind}-{str(batch.pk)[:8]}.zip"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
