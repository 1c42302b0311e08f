"""Operators in the admin: a staff superuser's browser session, and jobs in every state made
through the same services the API and the workers use."""

import io

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from processing.jobs import services
from processing.jobs.errors import PermanentJobError
from processing.lib.imaging.output import ImageOutput, json_output
from vendors.services import project_default, record_create


@pytest.fixture
def clean_redis():
    """This run's own Redis database, emptied so counters and worker records start at zero."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("operator", "operator@example.com", "pw-operator")


@pytest.fixture
def staff(client, superuser):
    client.force_login(superuser)
    return client


def png_bytes(color=(10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def make_job(vendor, kind: str = "sleepy", **options):
    record = record_create(
        project=project_default(vendor=vendor),
        upload=SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png"),
    )
    return services.job_create(vendor=vendor, kind=kind, record=record, **options)


def fail_job(job, message: str = "the input is not an image", code: str = "invalid_image"):
    """Run the job's attempt to a permanent failure, as a worker would."""
    taken = services.job_start(job_id=job.pk)
    services.job_fail(
        job=taken,
        run_token=taken.run_token,
        error=PermanentJobError(message, code=code),
        traceback=f'Traceback (most recent call last):\n  File "runner.py", line 1\nPermanentJobError: {message}',
    )
    taken.refresh_from_db()
    return taken


def succeed_job(job, output: ImageOutput | None = None):
    taken = services.job_start(job_id=job.pk)
    output = output or ImageOutput(png_bytes((255, 0, 0)), "image/png", 8, 8)
    services.job_succeed(job=taken, run_token=taken.run_token, output=output)
    taken.refresh_from_db()
    return taken


def succeed_with_json(job, document):
    return succeed_job(job, json_output(document))
