"""The storage quota's counter (Vendor.storage_bytes): kept at upload and delete, never a SUM per
request. What a refusal looks like on every upload path: tests/security/test_upload_quotas.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.photos import image_bytes
from vendors import services as vendor_services
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

PNG = image_bytes()


def png(name="p.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def stored_bytes(vendor):
    return Vendor.objects.get(pk=vendor.pk).storage_bytes


def test_a_removed_record_frees_its_bytes(vendor):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    records = [vendor_services.record_create(project=project, upload=png()) for _ in range(3)]
    assert stored_bytes(vendor) == 3 * len(PNG)
    records[0].delete()
    assert stored_bytes(vendor) == 2 * len(PNG)
    project.delete()  # its records go with it
    assert stored_bytes(vendor) == 0
