"""Jobs here run in-process (the actor's function called directly) on the test-only `isolated`
kind, whose queue the shared e2e worker never consumes, so no other process takes them."""

import io

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from vendors.services import project_default, record_create


@pytest.fixture
def clean_redis():
    """This run's own Redis database (TEST_REDIS_URL), emptied so queues and counters start at zero."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def make_record(vendor, name: str = "photo.png"):
    return record_create(project=project_default(vendor=vendor), upload=png_upload(name))
