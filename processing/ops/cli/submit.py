"""darkroom submit IMAGES… --vendor V --kind K [--params JSON] [--priority P]"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs import selectors, services
from processing.lib.errors import ProcessingError
from processing.ops.cli.common import EXIT_USAGE, fail
from vendors.selectors import vendor_get_by_slug


def add_arguments(parser) -> None:
    parser.add_argument("images", nargs="+", help="image files; several make one batch")
    parser.add_argument("--vendor", required=True, help="vendor slug")
    parser.add_argument("--kind", required=True, help="remove_bg, face_crop, transform, …")
    parser.add_argument("--params", default="{}", help="parameters as JSON, e.g. '{\"width\": 300}'")
    parser.add_argument("--priority", default=None, help="low, normal or high (default: the plan's)")


def _upload(path: str) -> SimpleUploadedFile:
    file = Path(path)
    if not file.is_file():
        raise fail(f"no such image file: {path}", EXIT_USAGE)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return SimpleUploadedFile(file.name, file.read_bytes(), content_type=content_type)


def handle(command, options) -> None:
    vendor = vendor_get_by_slug(slug=options["vendor"])
    if vendor is None:
        raise fail(f"no vendor {options['vendor']}")
    try:
        params = json.loads(options["params"])
    except json.JSONDecodeError as exc:
        raise fail(f"--params is not JSON: {exc}", EXIT_USAGE) from None
    uploads = [_upload(path) for path in options["images"]]
    common = {"vendor": vendor, "kind": options["kind"], "params": params, "priority": options["priority"]}
    try:
        if len(uploads) == 1:
            job = services.job_create(upload=uploads[0], **common)
            command.stdout.write(str(job.pk))
            return
        batch = services.batch_create(uploads=uploads, **common)
    except ProcessingError as exc:
        raise fail(f"{exc.code}: {exc.message}", EXIT_USAGE) from None
    command.stdout.write(f"batch {batch.pk}")
    for job_id in selectors.batch_job_ids(batch=batch):
        command.stdout.write(str(job_id))
