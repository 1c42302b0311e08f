"""Creating jobs and batches: validated at the edge of the core, committed, then admitted."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from processing.jobs import usage
from processing.jobs.errors import EmptyUpload, InvalidInput, InvalidPriority, NotFound, ParamsTooLarge
from processing.jobs.kinds import get_processor
from processing.jobs.kinds.base import Processor
from processing.jobs.models import Batch, IdempotencyKey, Job
from processing.jobs.services.idempotency import idempotency_key_done
from processing.jobs.services.transitions import CHUNK, retried_on_deadlock
from processing.jobs.wakeup import request_admission
from processing.lib.errors import ImageTooLarge, InvalidOptions
from processing.lib.http.fetch import check_image_url
from processing.lib.imaging.upload_type import upload_content_type
from processing.lib.logcontext import current_request_id
from vendors import services as vendor_services
from vendors.models import Priority, Project, Record, Vendor
from vendors.selectors import vendor_limits

logger = logging.getLogger(__name__)


def resolve_priority(*, vendor: Vendor, priority: str | int | None) -> int:
    if priority is None or priority == "":
        default = vendor_limits(vendor=vendor)["default_priority"]
        assert default is not None  # Plan.default_priority is not null
        return default
    return parse_priority(priority)


def parse_priority(priority: str | int) -> Priority:
    try:
        return Priority(priority) if isinstance(priority, int) else Priority.from_label(priority)
    except ValueError as exc:
        raise InvalidPriority(str(exc)) from None


def check_upload(upload: UploadedFile[bytes]) -> None:
    """The only image work on the request path: is there something, small enough, and do its
    leading bytes say it is an allowed raster image (record_create checks that again)."""
    if not upload.size:
        raise EmptyUpload("the uploaded image is empty")
    if upload.size > settings.IMAGE_MAX_BYTES:
        raise ImageTooLarge(f"the upload is {upload.size} bytes; the limit is {settings.IMAGE_MAX_BYTES}")
    upload_content_type(upload)


def check_params_size(params: dict[str, Any] | None) -> None:
    """Params are options, not payloads: a few KB of JSON at most (JOB_PARAMS_MAX_BYTES)."""
    size = len(json.dumps(params or {}, separators=(",", ":")).encode())
    if size > settings.JOB_PARAMS_MAX_BYTES:
        raise ParamsTooLarge(f"params are {size} bytes of JSON; the limit is {settings.JOB_PARAMS_MAX_BYTES}")


def one_input_check(*, kind: str, given: Collection[str], none_allowed: bool = True) -> None:
    """The rule of a job's input, for the API's validation and job_create alike: exactly one of a
    record, an upload or an image URL; none only for a kind that works from its parameters alone
    (inputs has "none", an ai_endpoint generating from a prompt) and where the caller could send
    none (`none_allowed`: a form always carries one). InvalidInput otherwise."""
    if len(given) > 1 or (not given and not (none_allowed and "none" in get_processor(kind).inputs)):
        raise InvalidInput("give exactly one input: an uploaded image, a record or an image URL")


@dataclass(frozen=True)
class _Checked:
    processor: Processor
    params: dict[str, Any]
    priority: int


def _checked(*, vendor: Vendor, kind: str, params: dict[str, Any] | None, priority: str | int | None) -> _Checked:
    """What job_create and batch_create check first: the params (size, then the kind's own
    cleaning) and the priority."""
    check_params_size(params)
    processor = get_processor(kind)
    clean_params = processor.clean_params(params)
    return _Checked(
        processor=processor, params=clean_params, priority=resolve_priority(vendor=vendor, priority=priority)
    )


def _inputs_check(
    *, vendor: Vendor, records: list[Record], uploads: list[UploadedFile[bytes]], image_urls: list[str]
) -> None:
    """Then their inputs: the records are the vendor's, the uploads are images, the URLs' syntax
    (the worker resolves and fetches)."""
    if any(record.vendor_id != vendor.pk for record in records):
        raise NotFound("record not found")
    for upload in uploads:
        check_upload(upload)
    for url in image_urls:
        check_image_url(url)


def _stored(*, vendor: Vendor, project: Project | None, uploads: list[UploadedFile[bytes]]) -> list[Record]:
    """The uploads as records of `project` (the vendor's default one when None)."""
    if not uploads:
        return []
    target = project or vendor_services.project_default(vendor=vendor)
    return [vendor_services.record_create(project=target, upload=upload) for upload in uploads]


def _admitted_after_commit(kind: str) -> None:
    """Once the rows are committed, mark the kind for admission and wake the workers."""
    transaction.on_commit(lambda: request_admission(kinds=[kind]))


@retried_on_deadlock
def job_create(
    *,
    vendor: Vendor,
    kind: str,
    params: dict[str, Any] | None = None,
    priority: str | int | None = None,
    record: Record | None = None,
    upload: UploadedFile[bytes] | None = None,
    image_url: str | None = None,
    project: Project | None = None,
    batch: Batch | None = None,
    idempotency: IdempotencyKey | None = None,
    request_id: str | None = None,
) -> Job:
    """Create a job and hand it to the dispatcher once the row is committed. `idempotency`: a
    claimed key, marked done with this job in the same transaction. `request_id`: the request's
    X-Request-ID, by default the one of the request being served."""
    checked = _checked(vendor=vendor, kind=kind, params=params, priority=priority)
    processor, clean_params, job_priority = checked.processor, checked.params, checked.priority
    given = {name for name, value in (("record", record), ("upload", upload), ("url", image_url)) if value}
    one_input_check(kind=kind, given=given)
    if not given <= processor.inputs:
        raise InvalidInput(f"{kind} does not take a {given.pop()} as input")
    _inputs_check(
        vendor=vendor,
        records=[record] if record is not None else [],
        uploads=[upload] if upload is not None else [],
        image_urls=[image_url] if image_url else [],
    )

    with transaction.atomic():
        if upload is not None:
            (record,) = _stored(vendor=vendor, project=project, uploads=[upload])
        job = Job.objects.create(
            vendor=vendor,
            record=record,
            # Without an input (an image generated from a prompt), the result becomes a record here.
            project=project if not given else None,
            batch=batch,
            kind=kind,
            params=clean_params,
            input_url=image_url or "",
            priority=job_priority,
            max_attempts=processor.retry.max_attempts,
            request_id=request_id or current_request_id() or "",
        )
        usage.usage_add(counts=[usage.submitted(vendor_id=vendor.pk, kind=kind)])
        if idempotency is not None:
            idempotency_key_done(claim=idempotency, job=job)
        _admitted_after_commit(kind)
    return job


@retried_on_deadlock
def batch_create(
    *,
    vendor: Vendor,
    kind: str,
    params: dict[str, Any] | None = None,
    priority: str | int | None = None,
    records: list[Record] | None = None,
    uploads: list[UploadedFile[bytes]] | None = None,
    image_urls: list[str] | None = None,
    project: Project | None = None,
    idempotency: IdempotencyKey | None = None,
    request_id: str | None = None,
) -> Batch:
    """Many jobs of one kind in one request: inserted in chunks, admitted as capacity frees up.
    `idempotency` and `request_id` as for job_create. The params are stored once, on the batch;
    its jobs read them from there."""
    records, uploads, image_urls = list(records or []), list(uploads or []), list(image_urls or [])
    checked = _checked(vendor=vendor, kind=kind, params=params, priority=priority)
    processor, clean_params, job_priority = checked.processor, checked.params, checked.priority
    _inputs_check(vendor=vendor, records=records, uploads=uploads, image_urls=image_urls)
    if not records and not uploads and not image_urls:
        raise InvalidOptions("a batch needs at least one record, image or image URL", code="empty_batch")
    total = len(records) + len(uploads) + len(image_urls)
    if total > settings.BULK_MAX_ITEMS:
        raise InvalidOptions(
            f"a batch holds at most {settings.BULK_MAX_ITEMS} images, not {total}; start it in parts",
            code="batch_too_large",
        )

    request_id = request_id or current_request_id() or ""
    with transaction.atomic():
        records += _stored(vendor=vendor, project=project, uploads=uploads)
        batch = Batch.objects.create(
            vendor=vendor, kind=kind, params=clean_params, priority=job_priority, total=len(records) + len(image_urls)
        )
        inputs = [{"record": record} for record in records] + [{"input_url": url} for url in image_urls]
        Job.objects.bulk_create(
            [
                Job(
                    vendor=vendor,
                    batch=batch,
                    kind=kind,
                    priority=job_priority,
                    max_attempts=processor.retry.max_attempts,
                    request_id=request_id,
                    **given,
                )
                for given in inputs
            ],
            batch_size=CHUNK,
        )
        usage.usage_add(counts=[usage.submitted(vendor_id=vendor.pk, kind=kind, n=batch.total)])
        if idempotency is not None:
            idempotency_key_done(claim=idempotency, batch=batch)
        _admitted_after_commit(kind)
    return batch
