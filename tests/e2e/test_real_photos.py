"""Photos at the sizes vendors bring, through the API to a real worker: 12, 24 and 48 MP, from
cameras (JPEG turned by EXIF, PNG with alpha) and phones (HEIC, AVIF), for every kind.

The jobs are submitted together and run side by side on the session's worker, as a vendor's
upload of a shoot would; the pixel-exact comparisons with rembg are the library's tests
(tests/lib/imaging/test_background_identity.py, test_real_sizes.py)."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.support.photos import (
    CAMERA_SIZES,
    IPHONE_SIZE,
    camera_photo,
    decode,
    encoded,
    exif_rotated,
    heic_bytes,
    jpeg_bytes,
    with_transparent_margins,
)
from tests.support.waiting import wait_until_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _jpeg(size, *, source="astronaut", turned=False) -> bytes:
    photo = camera_photo(size, source=source)
    return jpeg_bytes(photo, exif=exif_rotated(photo)) if turned else jpeg_bytes(photo)


# name: (kind, params, file name, bytes, content type, the result's size, its format)
def _shoot() -> dict:
    mp24 = with_transparent_margins(camera_photo(CAMERA_SIZES["24 MP"], source="astronaut"))
    iphone = camera_photo(IPHONE_SIZE, source="astronaut")
    return {
        "12 MP JPEG turned, cut out": ("remove_bg", {}, "IMG_0001.jpg", _jpeg(CAMERA_SIZES["12 MP"], turned=True)),
        "24 MP PNG with alpha, cut out as WebP": (
            "remove_bg",
            {"format": "webp"},
            "packshot.png",
            encoded(mp24, "PNG", compress_level=1),
        ),
        "48 MP JPEG, cut out on white": (
            "remove_bg",
            {"bgcolor": [255, 255, 255, 255]},
            "DSC_4800.jpg",
            _jpeg(CAMERA_SIZES["48 MP"]),
        ),
        "48 MP portrait, face crop": ("face_crop", {}, "portrait.jpg", _jpeg((6928, 6928))),
        "48 MP JPEG, resized": (
            "transform",
            {"width": 1600, "format": "jpeg"},
            "DSC_4801.jpg",
            _jpeg(CAMERA_SIZES["48 MP"]),
        ),
        "24 MP, cut out then resized": (
            "pipeline",
            {"steps": [{"kind": "remove_bg"}, {"kind": "transform", "params": {"width": 1600, "format": "webp"}}]},
            "DSC_2400.jpg",
            _jpeg(CAMERA_SIZES["24 MP"]),
        ),
        "iPhone HEIC turned, cut out": (
            "remove_bg",
            {},
            "IMG_1234.HEIC",
            heic_bytes(iphone, exif=exif_rotated(iphone)),
        ),
        "AVIF, resized": (
            "transform",
            {"width": 2000, "format": "png"},
            "photo.avif",
            encoded(camera_photo(CAMERA_SIZES["12 MP"]), "AVIF", quality=80, speed=10),
        ),
    }


EXPECTED = {  # (width, height, format) of each result
    "12 MP JPEG turned, cut out": (3000, 4000, "PNG"),
    "24 MP PNG with alpha, cut out as WebP": (6000, 4000, "WEBP"),
    "48 MP JPEG, cut out on white": (8000, 6000, "PNG"),
    "48 MP JPEG, resized": (1600, 1200, "JPEG"),
    "24 MP, cut out then resized": (1600, 1067, "WEBP"),
    "iPhone HEIC turned, cut out": (3024, 4032, "PNG"),
    "AVIF, resized": (2000, 1500, "PNG"),
}


def test_a_shoot_at_real_sizes_runs_through_every_kind(worker, http):
    shoot = _shoot()
    submitted = {}
    for name, (kind, params, file_name, data) in shoot.items():
        response = http.post(
            "/api/v1/jobs/",
            data={"kind": kind, "params": json.dumps(params)},
            files={"image": (file_name, data, "application/octet-stream")},
            timeout=60,
        )
        assert response.status_code == 202, (name, response.text)
        submitted[name] = response.json()["id"]

    for name, job_id in submitted.items():
        job = wait_until_finished(http, job_id, timeout=600)
        assert job["state"] == "succeeded", (name, job["error"])
        assert job["attempts"] == 1, name
        result = http.get(job["result"]["url"], timeout=60)
        assert result.status_code == 200, name
        img = decode(result.content)
        if name in EXPECTED:
            width, height, format = EXPECTED[name]
            assert (img.width, img.height, img.format) == (width, height, format), name
            assert (job["result"]["width"], job["result"]["height"]) == (width, height), name
        if shoot[name][0] == "remove_bg" and "bgcolor" not in shoot[name][1]:
            stored = img.transpose(Image.Transpose.ROTATE_90) if "turned" in name else img  # as photographed
            alpha = np.asarray(stored.convert("RGBA"))[:, :, 3]
            top_corners = (
                alpha[: stored.height // 12, : stored.width // 12],
                alpha[: stored.height // 12, -stored.width // 12 :],
            )
            assert max(corner.mean() for corner in top_corners) < 10, f"{name}: the background is cleared"
            middle = alpha[img.height * 2 // 5 : img.height * 3 // 5, img.width * 2 // 5 : img.width * 3 // 5]
            assert middle.mean() > 200, f"{name}: the subject stays"

    crop = decode(
        http.get(http.get(f"/api/v1/jobs/{submitted['48 MP portrait, face crop']}/").json()["result"]["url"]).content
    )
    assert 500 < crop.width < 6928 and 500 < crop.height < 6928, "a crop around the face, at the photo's resolution"
