import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs.models import Job
from tests.conftest import client_for
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db


def post(client, key):
    return client.post(
        "/api/v1/jobs/",
        {"kind": "transform", "image": SimpleUploadedFile("a.png", image_bytes())},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_the_same_idempotency_key_twice_gives_the_same_job(owner, member):
    first, again = post(client_for(owner), "order-42"), post(client_for(member), "order-42")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1


def test_keys_are_per_vendor_and_other_keys_make_new_jobs(owner, outsider):
    mine = post(client_for(owner), "order-42").json()["id"]
    theirs = post(client_for(outsider), "order-42").json()["id"]
    other = post(client_for(owner), "order-43").json()["id"]
    assert len({mine, theirs, other}) == 3
