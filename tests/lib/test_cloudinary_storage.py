"""The Cloudinary storage against a stand-in for Cloudinary's APIs on 127.0.0.1: the real SDK
sends real HTTP, pointed there by the CLOUDINARY_URL options `upload_prefix` (upload and Admin
APIs) and `cname` (delivery). The stand-in checks what the SDK sends (the resource type in the
path, the public id, the signature) and the tests check what the storage returns."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile

from processing.lib.cloudinary_storage import CloudinaryStorage, parse_cloudinary_url, resource_type
from tests.support.cloudinary import CLOUD, fake_cloudinary


@pytest.fixture
def cloud():
    with fake_cloudinary() as (handler, url, host):
        yield handler, CloudinaryStorage(cloudinary_url=url), host


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
    assert upload["file"] == b"\x89PNG fake" and upload["overwrite"] == "0"
    assert storage.url(name) == f"http://{host}/{CLOUD}/image/upload/v1/results/3/7f0c/ab12.png"
    with storage.open(name) as handle:
        assert handle.read() == b"\x89PNG fake"
    assert storage.exists(name) and storage.size(name) == len(b"\x89PNG fake")


def test_a_json_result_is_uploaded_as_raw_with_its_extension(cloud):
    handler, storage, host = cloud
    name = storage.save("results/3/7f0c/cd34.json", ContentFile(b'{"labels":["shoe"]}'))

    upload = handler.calls[-1]
    assert (upload["resource_type"], upload["public_id"]) == ("raw", "results/3/7f0c/cd34.json")
    assert storage.url(name) == f"http://{host}/{CLOUD}/raw/upload/v1/results/3/7f0c/cd34.json"
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
