"""Private media on a real S3 API (SeaweedFS on loopback, tests/support/s3.py): Darkroom stores
the files in the bucket and hands out presigned links (django-storages' `querystring_auth` and
`querystring_expire`, MEDIA_URL_EXPIRE_S) that work as given, not once expired or changed, and
never for the object's plain URL; with MEDIA_DELIVERY=proxied the file is streamed from the
bucket to the vendor's people only."""

from __future__ import annotations

import time

import httpx
import pytest
from django.test import Client
from storages.backends.s3 import S3Storage

from tests.factories import image_upload
from tests.support.clients import client_for
from vendors import services

pytestmark = pytest.mark.django_db


def _upload(owner, vendor) -> dict:
    project = services.project_default(vendor=vendor)
    response = client_for(owner).post(
        f"/api/v1/projects/{project.pk}/records/", {"image": image_upload("shoe.png")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_an_upload_to_s3_is_linked_by_a_presigned_url_only(s3_storage, s3_server, settings, vendor, owner):
    settings.MEDIA_DELIVERY = "signed"
    record = _upload(owner, vendor)
    link = record["original_url"]
    (key,) = s3_server.keys(s3_storage.bucket_name)
    plain = f"{s3_server.endpoint_url}/{s3_storage.bucket_name}/{key}"

    assert link.startswith(plain + "?") and "X-Amz-Signature=" in link and "X-Amz-Expires=3600" in link
    assert key.startswith(f"originals/{vendor.pk}/") and len(key.split("/")[2]) == 32
    fetched = httpx.get(link)
    assert fetched.status_code == 200 and fetched.content == s3_storage.open(key).read()
    assert httpx.get(plain).status_code == 403, "the object itself is not public"
    assert httpx.get(link.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403


def test_a_presigned_url_expires(s3_storage, s3_server):
    name = s3_storage.save("results/1/0f/" + "a" * 32 + ".png", image_upload("x.png"))
    # Long enough for the first fetch on a busy machine (SigV4 dates are whole seconds).
    short = S3Storage(**s3_server.storage_options(s3_storage.bucket_name), querystring_expire=4)
    link = short.url(name)
    assert httpx.get(link).status_code == 200

    time.sleep(5.5)

    assert httpx.get(link).status_code == 403


def test_proxied_delivery_streams_from_the_bucket_to_the_vendor_only(
    s3_storage, settings, vendor, owner, member, outsider
):
    settings.MEDIA_DELIVERY = "proxied"
    record = _upload(owner, vendor)
    path = record["original_url"].split("://", 1)[-1].split("/", 1)[1]
    assert record["original_url"].endswith(f"/media/{path.removeprefix('media/')}")

    member_session = Client()
    member_session.force_login(member)
    given = member_session.get("/" + path)
    assert given.status_code == 200
    assert b"".join(given.streaming_content) == s3_storage.open(path.removeprefix("media/")).read()
    assert client_for(outsider).get("/" + path).status_code == 404
    assert Client().get("/" + path).status_code == 404
    gone = path.rsplit("/", 2)[0] + "/" + "0" * 32 + "/original.png"
    assert member_session.get("/" + gone).status_code == 404, "a missing object is the same 404"
