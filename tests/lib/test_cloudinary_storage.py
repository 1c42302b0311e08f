"""The Cloudinary storage against a stand-in for Cloudinary's APIs on 127.0.0.1: the real SDK
sends real HTTP, pointed there by the CLOUDINARY_URL options `upload_prefix` (upload and Admin
APIs) and `cname` (delivery). The stand-in checks what the SDK sends (the resource type in the
path, the public id, the signature) and the tests check what the storage returns. Like
Cloudinary, it delivers an `authenticated` asset only through a signed download link that has
not expired, never at its plain delivery URL."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3
from django.core.files.base import ContentFile

from processing.lib.cloudinary_storage import CloudinaryStorage, parse_cloudinary_url, resource_type
from tests.support.cloudinary import CLOUD, KEY, fake_cloudinary


@pytest.fixture
def cloud():
    with fake_cloudinary() as (handler, url, host):
        yield handler, CloudinaryStorage(cloudinary_url=url), host


def signed_link(url: str, host: str) -> tuple[str, str, str | None]:
    """(resource type, public id, format) of a signed, expiring download link for an
    authenticated asset; fails on any other URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert parts.netloc == host and parts.path.startswith(f"/v1_1/{CLOUD}/") and parts.path.endswith("/download")
    assert query["type"] == "authenticated" and query["signature"] and query["api_key"] == KEY
    assert 0 < int(query["expires_at"]) - time.time() <= 3600
    return parts.path.split("/")[3], query["public_id"], query.get("format")


def test_the_url_setting_is_parsed_as_the_sdk_reads_it():
    assert parse_cloudinary_url("cloudinary://k%2B1:s%2F2@demo") == {
        "cloud_name": "demo",
        "api_key": "k+1",
        "api_secret": "s/2",
        "secure": True,
    }
    assert parse_cloudinary_url("cloudinary://k:s@demo/cdn.example.com?secure=false")["secure_distribution"] == (
        "cdn.example.com"
    )
    assert [resource_type(n) for n in ["a/b.png", "a/b.JPG", "a/b.webp", "a/b.json", "a/b"]] == [
        "image",
        "image",
        "image",
        "raw",
        "raw",
    ]


def test_an_image_is_uploaded_as_an_image_under_its_name_without_extension(cloud):
    handler, storage, host = cloud
    name = storage.save("results/3/7f0c/ab12.png", ContentFile(b"\x89PNG fake", name="ab12.png"))

    assert name == "results/3/7f0c/ab12.png"
    upload = handler.calls[-1]
    assert (upload["action"], upload["resource_type"], upload["public_id"]) == (
        "upload",
        "image",
        "results/3/7f0c/ab12",
    )
    assert upload["file"] == b"\x89PNG fake" and upload["overwrite"] == "0" and upload["type"] == "authenticated"
    assert signed_link(storage.url(name), host) == ("image", "results/3/7f0c/ab12", "png")
    with storage.open(name) as handle:
        assert handle.read() == b"\x89PNG fake"
    assert storage.exists(name) and storage.size(name) == len(b"\x89PNG fake")


def test_a_json_result_is_uploaded_as_raw_with_its_extension(cloud):
    handler, storage, host = cloud
    name = storage.save("results/3/7f0c/cd34.json", ContentFile(b'{"labels":["shoe"]}'))

    upload = handler.calls[-1]
    assert (upload["resource_type"], upload["public_id"]) == ("raw", "results/3/7f0c/cd34.json")
    assert signed_link(storage.url(name), host) == ("raw", "results/3/7f0c/cd34.json", None)
    with storage.open(name) as handle:
        assert json.loads(handle.read()) == {"labels": ["shoe"]}
    assert storage.size(name) == len(b'{"labels":["shoe"]}')
    assert handler.calls[-1] == {"action": "resource", "resource_type": "raw", "public_id": "results/3/7f0c/cd34.json"}


def test_delete_and_missing_files(cloud):
    handler, storage, _ = cloud
    name = storage.save("originals/3/9e/photo.jpg", ContentFile(b"jpeg"))
    storage.delete(name)

    destroy = handler.calls[-1]
    assert (destroy["action"], destroy["resource_type"], destroy["public_id"]) == (
        "destroy",
        "image",
        "originals/3/9e/photo",
    )
    assert destroy["invalidate"] == "1"
    assert not storage.exists(name)
    storage.delete(name)  # already gone: no error
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.size(name)


def test_a_taken_name_is_not_overwritten(cloud):
    handler, storage, _ = cloud
    first = storage.save("originals/3/9e/photo.png", ContentFile(b"one"))
    second = storage.save("originals/3/9e/photo.png", ContentFile(b"two"))

    assert first == "originals/3/9e/photo.png"
    assert second != first and second.startswith("originals/3/9e/photo_") and second.endswith(".png")
    with storage.open(first) as a, storage.open(second) as b:
        assert (a.read(), b.read()) == (b"one", b"two")


def test_nothing_is_public_and_a_signed_link_expires(cloud, settings):
    handler, storage, host = cloud
    name = storage.save("thumbnails/3/ab/original-photo.webp", ContentFile(b"RIFF preview"))
    public = f"http://{host}/{CLOUD}/image/upload/v1/thumbnails/3/ab/original-photo.webp"
    authenticated = f"http://{host}/{CLOUD}/image/authenticated/v1/thumbnails/3/ab/original-photo.webp"
    http = urllib3.PoolManager()

    assert http.request("GET", storage.url(name)).data == b"RIFF preview"
    assert http.request("GET", public).status == 404, "stored as authenticated, never as a public upload"
    assert http.request("GET", authenticated).status == 401, "an unsigned request for it is refused"
    forged = storage.url(name).replace("signature=", "signature=0")
    assert http.request("GET", forged).status == 401

    expired = CloudinaryStorage(cloudinary_url=storage.cloudinary_url, expire_s=-1)
    assert http.request("GET", expired.url(name)).status == 401


def test_a_file_stored_public_before_is_made_private(cloud):
    _, storage, host = cloud
    before = CloudinaryStorage(cloudinary_url=storage.cloudinary_url, delivery_type="upload")
    name = before.save("originals/3/ab/original.png", ContentFile(b"\x89PNG old"))
    public = before.url(name)
    http = urllib3.PoolManager()
    assert http.request("GET", public).status == 200
    assert not storage.exists(name), "not found as authenticated until moved"

    assert storage.make_private(name) is True
    assert storage.make_private(name) is False, "moved already"

    assert http.request("GET", public).status == 404
    assert http.request("GET", storage.url(name)).data == b"\x89PNG old"


@pytest.mark.django_db
def test_the_upgrade_command_makes_every_stored_file_private(cloud, settings, vendor):
    from django.core.management import call_command

    from processing.lib.media import media_url
    from tests.factories import make_job, succeed_job

    handler, storage, host = cloud
    backend = "processing.lib.cloudinary_storage.CloudinaryStorage"
    options = {"cloudinary_url": storage.cloudinary_url}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": backend, "OPTIONS": {**options, "delivery_type": "upload"}},
    }
    job = succeed_job(make_job(vendor))  # an original and a result, stored public as before
    assert set(handler.types.values()) == {"upload"} and len(handler.types) == 2
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend, "OPTIONS": options}}
    out = io.StringIO()

    call_command("media_make_private", stdout=out)

    assert out.getvalue().strip() == "2 of 2 stored files moved to private delivery"
    assert set(handler.types.values()) == {"authenticated"}
    http = urllib3.PoolManager()
    assert http.request("GET", media_url(job.result["name"])).status == 200
    public = f"http://{host}/{CLOUD}/image/upload/v1/{job.result['name']}"
    assert http.request("GET", public).status == 404
