"""Small builders for test data, through the same services the product uses. Every test
directory builds its uploads, records and jobs here (image bytes: tests/support/photos.py)."""

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs import services as job_services
from processing.lib.errors import PermanentError
from processing.lib.imaging.output import ImageOutput, json_output
from tests.support.photos import image_bytes
from vendors import services
from vendors.models import Vendor
from vendors.plans import ensure_default_plans

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def make_vendor(slug: str, plan: str = "standard") -> Vendor:
    ensure_default_plans()  # transactional tests flush the seeded rows
    return services.vendor_create(slug=slug, plan_slug=plan)


def make_member(vendor: Vendor, username: str, role: str = "member"):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    services.member_add(vendor=vendor, user=user, role=role)
    return user


def image_upload(name: str = "photo.png", data: bytes | None = None, **image) -> SimpleUploadedFile:
    """An uploaded image file; its format follows the name's extension."""
    format = "JPEG" if name.lower().endswith((".jpg", ".jpeg")) else name.rsplit(".", 1)[-1].upper()
    data = image_bytes(format=format, **image) if data is None else data
    return SimpleUploadedFile(name, data, content_type=CONTENT_TYPES.get(format, "application/octet-stream"))


def make_record(vendor: Vendor, name: str = "photo.png", *, project=None):
    project = project or services.project_default(vendor=vendor)
    return services.record_create(project=project, upload=image_upload(name))


def make_job(vendor: Vendor, kind: str = "sleepy", **options):
    """A job of `kind` on a new record of the vendor's default project."""
    return job_services.job_create(vendor=vendor, kind=kind, record=make_record(vendor), **options)


def fail_job(job, message: str = "the input is not an image", code: str = "invalid_image"):
    """Run the job's attempt to a permanent failure, as a worker would."""
    taken = job_services.job_start(job_id=job.pk)
    job_services.job_fail(
        job=taken,
        run_token=taken.run_token,
        error=PermanentError(message, code=code),
        traceback=f'Traceback (most recent call last):\n  File "runner.py", line 1\nPermanentError: {message}',
    )
    taken.refresh_from_db()
    return taken


def succeed_job(job, output: ImageOutput | None = None):
    taken = job_services.job_start(job_id=job.pk)
    output = output or ImageOutput(image_bytes(color=(255, 0, 0)), "image/png", 8, 8)
    job_services.job_succeed(job=taken, run_token=taken.run_token, output=output)
    taken.refresh_from_db()
    return taken


def succeed_with_json(job, document):
    return succeed_job(job, json_output(document))
