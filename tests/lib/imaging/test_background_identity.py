"""Darkroom's cut-out decodes to exactly rembg.remove's pixels, for every option, on real photos.

The reference is rembg itself: rembg.remove on the same upload bytes, with a session rembg
builds with its own default onnxruntime options. Darkroom's session is the one a worker uses
(processing.lib.rembg.sessions, Darkroom's onnxruntime options).
"""

import numpy as np
import pytest
import rembg

from processing.lib.imaging.background import remove_background
from tests.support.photos import LIMITS, camera_photo, decode, exif_rotated, jpeg_bytes

OPTIONS = {
    "plain": {},
    "only_mask": {"only_mask": True},
    "post_process_mask": {"post_process_mask": True},
    "post_processed only_mask": {"only_mask": True, "post_process_mask": True},
    "white background": {"bgcolor": (255, 255, 255, 255)},
    "half-transparent background": {"bgcolor": (0, 128, 255, 128)},
    "post_process_mask + background": {"post_process_mask": True, "bgcolor": (10, 20, 30, 255)},
    "alpha matting": {"alpha_matting": True},
    "alpha matting 200/30/5": {
        "alpha_matting": True,
        "alpha_matting_foreground_threshold": 200,
        "alpha_matting_background_threshold": 30,
        "alpha_matting_erode_size": 5,
    },
    "decontaminate": {"decontaminate": True},
}


@pytest.fixture(scope="module")
def rembg_reference_session(rembg_home, u2netp_session):
    # u2netp_session has pointed rembg at rembg_home already.
    return rembg.new_session("u2netp")


@pytest.mark.parametrize("photo", ["astronaut_jpeg", "chelsea_jpeg", "coffee_jpeg"])
@pytest.mark.parametrize("options", list(OPTIONS.values()), ids=list(OPTIONS))
@pytest.mark.parametrize("format", ["png", "webp"])
def test_same_pixels_as_rembg(photo, options, format, request, u2netp_session, rembg_reference_session):
    data = request.getfixturevalue(photo)
    if options.get("alpha_matting") and photo != "chelsea_jpeg":
        pytest.skip("alpha matting costs seconds a photo; chelsea covers it")

    ours = decode(remove_background(data, session=u2netp_session, format=format, **options, **LIMITS).data)
    theirs = decode(rembg.remove(data, session=rembg_reference_session, **options))
    if format == "webp":
        # WebP has no grey mode (a mask comes back as equal R, G, B) and drops an all-opaque
        # alpha channel: compare in rembg's mode.
        assert ours.format == "WEBP"
        ours = ours.convert(theirs.mode)

    assert ours.mode == theirs.mode
    assert ours.size == theirs.size
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))


# A camera's photo: 12 MP, odd width, taken turned (EXIF orientation 6), above Pillow's block
# size, so its cut-out takes the multi-block path no 512 px sample reaches.
CAMERA_OPTIONS = ("plain", "only_mask", "post_process_mask", "half-transparent background", "decontaminate")


@pytest.fixture(scope="module")
def camera_jpeg() -> bytes:
    photo = camera_photo((4001, 3000), source="astronaut")
    return jpeg_bytes(photo, exif=exif_rotated(photo))


@pytest.mark.parametrize("name", CAMERA_OPTIONS)
@pytest.mark.parametrize("format", ["png", "webp"])
def test_same_pixels_as_rembg_on_a_camera_photo(name, format, camera_jpeg, u2netp_session, rembg_reference_session):
    options = OPTIONS[name]
    ours = decode(remove_background(camera_jpeg, session=u2netp_session, format=format, **options, **LIMITS).data)
    theirs = decode(rembg.remove(camera_jpeg, session=rembg_reference_session, **options))
    if format == "webp":
        ours = ours.convert(theirs.mode)

    assert ours.size == theirs.size == (3000, 4001), "shown upright, at full size"
    assert ours.mode == theirs.mode
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
