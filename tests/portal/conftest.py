import pytest

from tests.factories import image_upload
from vendors import services as vendor_services


@pytest.fixture
def project(vendor):
    return vendor_services.project_create(vendor=vendor, name="Acme shoes")


@pytest.fixture
def records(project):
    return [vendor_services.record_create(project=project, upload=image_upload(f"p{i}.png")) for i in range(3)]
