import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_redis import get_redis_connection
from PIL import Image

from processing.jobs import services
from vendors import services as vendor_services


@pytest.fixture(autouse=True)
def fresh_counters():
    """Quota counters are keyed by vendor id, which a flushed test database hands out again."""
    get_redis_connection("default").flushdb()
    yield


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def jpeg_upload(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, small_jpeg(), content_type="image/jpeg")


@pytest.fixture
def acme_objects(vendor, owner):
    """One of each thing acme owns: a project, a record in it, a job on it, a batch."""
    project = vendor_services.project_create(vendor=vendor, name="Spring catalogue")
    record = vendor_services.record_create(project=project, upload=jpeg_upload())
    job = services.job_create(vendor=vendor, kind="transform", record=record, params={"width": 8})
    batch = services.batch_create(vendor=vendor, kind="transform", records=[record], params={"width": 8})
    return {"project": project, "record": record, "job": job, "batch": batch}
