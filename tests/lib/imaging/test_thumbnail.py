import numpy as np
import pytest
from PIL import Image
from skimage import data as samples

from processing.lib.errors import InvalidImage
from processing.lib.imaging.thumbnail import thumbnail
from tests.support.photos import LIMITS, decode, encoded, jpeg_bytes, rotated_jpeg


def test_a_large_photo_becomes_a_small_webp():
    photo = jpeg_bytes(Image.fromarray(samples.astronaut()).resize((3000, 3000)), quality=95)

    preview = thumbnail(photo, **LIMITS)

    img = decode(preview.data)
    assert (img.format, img.size, preview.content_type) == ("WEBP", (320, 320), "image/webp")
    assert len(preview.data) < 40_000 < len(photo)
    # Still the astronaut: the preview matches the photo scaled down.
    expected = np.asarray(Image.fromarray(samples.astronaut()).resize((320, 320)), dtype=float)
    assert np.abs(np.asarray(img.convert("RGB"), dtype=float) - expected).mean() < 12


def test_a_cut_out_keeps_its_transparency():
    cutout = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    cutout.paste((200, 30, 30, 255), (200, 100, 600, 300))

    img = decode(thumbnail(encoded(cutout, "PNG"), **LIMITS).data)

    assert img.size == (320, 160) and img.mode == "RGBA"
    alpha = np.asarray(img)[..., 3]
    assert alpha[0, 0] == 0 and alpha[80, 160] == 255


def test_the_preview_is_upright_and_small_images_are_not_enlarged():
    assert decode(thumbnail(rotated_jpeg(90, 60), **LIMITS).data).size == (60, 90)


def test_not_an_image_is_refused():
    with pytest.raises(InvalidImage):
        thumbnail(b"plain text", **LIMITS)
