"""A record says what a person sees: a phone or camera photo taken turned is stored as it came
but described upright, HEIC and AVIF included."""

import pytest

from tests.factories import image_upload
from tests.support.clients import client_for
from tests.support.photos import camera_photo, encoded, exif_rotated, heic_bytes, jpeg_bytes
from vendors import services

pytestmark = pytest.mark.django_db

PHOTO = camera_photo((640, 480))
UPLOADS = {
    "IMG_0001.jpg": (jpeg_bytes(PHOTO, exif=exif_rotated(PHOTO)), "image/jpeg", (480, 640)),
    "IMG_0002.jpg": (jpeg_bytes(PHOTO), "image/jpeg", (640, 480)),
    "IMG_0003.HEIC": (heic_bytes(PHOTO, exif=exif_rotated(PHOTO)), "image/heic", (480, 640)),
    "IMG_0004.avif": (encoded(PHOTO, "AVIF", exif=exif_rotated(PHOTO)), "image/avif", (480, 640)),
}


@pytest.mark.parametrize("name", UPLOADS)
def test_a_photo_taken_turned_is_described_upright(name, owner, vendor):
    data, content_type, (width, height) = UPLOADS[name]
    project = services.project_default(vendor=vendor).pk

    response = client_for(owner).post(
        f"/api/v1/projects/{project}/records/", {"image": image_upload(name, data)}, format="multipart"
    )

    assert response.status_code == 201, response.content
    record = response.json()
    assert (record["content_type"], record["width"], record["height"]) == (content_type, width, height)
