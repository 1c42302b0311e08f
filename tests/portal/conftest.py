import pytest
from django.test import Client

from tests.factories import image_upload
from vendors import services as vendor_services


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
    return [vendor_services.record_create(project=project, upload=image_upload(f"p{i}.png")) for i in range(3)]
