import io

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from vendors import services as vendor_services


@pytest.fixture(autouse=True)
def fresh_quotas():
    """Quota counters live in Redis, keyed by vendor id: start every test from zero."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def png_bytes(size=(8, 8), color=(200, 30, 30, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name="photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


@pytest.fixture
def browser_for():
    def signed_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def project(vendor):
    return vendor_services.project_create(vendor=vendor, name="Acme shoes")


@pytest.fixture
def records(project):
    return [vendor_services.record_create(project=project, upload=upload(f"p{i}.png")) for i in range(3)]
