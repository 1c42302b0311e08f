import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_redis import get_redis_connection
from PIL import Image

from processing.jobs import services
from vendors import services as vendor_services


@pytest.fixture(autouse=True)
def fresh_counters(request):
    """Quota counters are keyed by vendor id, which a flushed test database hands out again.
    Tests with a running worker keep Redis as it is: its queues live there."""
    if "worker" not in request.fixturenames:
        get_redis_connection("default").flushdb()


def small_upload(name: str = "photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 40, 40)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def make_record(vendor):
    return vendor_services.record_create(project=vendor_services.project_default(vendor=vendor), upload=small_upload())


def make_job(vendor, **params):
    return services.job_create(vendor=vendor, kind="sleepy", record=make_record(vendor), params=params)
