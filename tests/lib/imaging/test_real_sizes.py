"""Photos as vendors bring them: every accepted format at a camera's or a phone's size, read
upright with the pixels it holds, and cut out at 24 and 48 MP. The 512 px samples never leave one
block of Pillow's memory; these do."""

import io

import numpy as np
import pytest
from PIL import Image

from processing.lib.errors import InvalidImage
from processing.lib.imaging.background import remove_background
from processing.lib.imaging.inspect import load_image
from processing.lib.imaging.sniff import sniff_content_type
from processing.lib.imaging.upload_type import stored_name, upload_content_type
from tests.support.photos import (
    CAMERA_SIZES,
    IPHONE_SIZE,
    camera_photo,
    decode,
    encoded,
    exif_rotated,
    heic_bytes,
    jpeg_bytes,
    png16,
    with_transparent_margins,
)

BIG = {"max_bytes": 60 * 1024 * 1024, "max_pixels": 50_000_000}
TURNED = Image.Transpose.ROTATE_270  # what EXIF orientation 6 asks a viewer to do


def _turned(img: Image.Image) -> Image.Image:
    return img.transpose(TURNED)


# name: (bytes, the content type they are, what a viewer shows, lossy)
def _uploads() -> dict:
    camera = camera_photo(CAMERA_SIZES["12 MP"])
    iphone = camera_photo(IPHONE_SIZE)
    scan = camera_photo((2600, 1950))  # 16-bit PNGs are large: 5 MP, still several blocks
    cut_out = with_transparent_margins(camera)
    return {
        "JPEG, turned by EXIF": (jpeg_bytes(camera, exif=exif_rotated(camera)), "image/jpeg", _turned(camera), True),
        "PNG with alpha": (encoded(cut_out, "PNG", compress_level=1), "image/png", cut_out, False),
        "PNG, 16-bit RGB": (png16(scan), "image/png", scan, False),
        "PNG, 16-bit with alpha": (
            png16(with_transparent_margins(scan)),
            "image/png",
            with_transparent_margins(scan),
            False,
        ),
        "WebP": (encoded(camera, "WEBP", quality=90), "image/webp", camera, True),
        "WebP with alpha (lossless)": (
            encoded(cut_out, "WEBP", lossless=True, method=0, exact=True),
            "image/webp",
            cut_out,
            False,
        ),
        "TIFF": (encoded(camera, "TIFF", compression="tiff_deflate"), "image/tiff", camera, False),
        "HEIC from an iPhone, turned by EXIF": (
            heic_bytes(iphone, exif=exif_rotated(iphone)),
            "image/heic",
            _turned(iphone),
            True,
        ),
        "AVIF, turned by EXIF": (
            encoded(camera, "AVIF", quality=80, speed=10, exif=exif_rotated(camera)),
            "image/avif",
            _turned(camera),
            True,
        ),
    }


@pytest.fixture(scope="module")
def uploads() -> dict:
    return _uploads()


UPLOAD_NAMES = [
    "JPEG, turned by EXIF",
    "PNG with alpha",
    "PNG, 16-bit RGB",
    "PNG, 16-bit with alpha",
    "WebP",
    "WebP with alpha (lossless)",
    "TIFF",
    "HEIC from an iPhone, turned by EXIF",
    "AVIF, turned by EXIF",
]


@pytest.mark.parametrize("name", UPLOAD_NAMES)
def test_every_format_is_accepted_and_read_upright_with_its_pixels(name, uploads):
    data, content_type, shown, lossy = uploads[name]

    assert sniff_content_type(data) == content_type
    assert upload_content_type(io.BytesIO(data)) == content_type
    img = load_image(data, **BIG)

    assert img.size == shown.size
    assert img.mode == shown.mode
    difference = np.abs(np.asarray(img, dtype=np.int16) - np.asarray(shown, dtype=np.int16))
    if lossy:
        assert difference.mean() < 4, "the picture, not another one or a turned one"
    else:
        assert not difference.any()


def test_phone_photos_are_stored_under_their_own_extension():
    assert stored_name("image/heic") == "original.heic"
    assert stored_name("image/avif") == "original.avif"


def test_a_heif_that_is_not_an_image_is_refused_as_corrupt():
    truncated = heic_bytes(camera_photo((640, 480)))[:400]
    assert sniff_content_type(truncated) == "image/heic"
    with pytest.raises(InvalidImage):
        load_image(truncated, **BIG)


def test_an_avif_announced_only_among_compatible_brands_is_avif():
    data = encoded(camera_photo((64, 48)), "AVIF")
    size = int.from_bytes(data[:4], "big")
    as_mif1 = data[:8] + b"mif1" + data[12:]  # major brand mif1; "avif" stays a compatible brand
    assert b"avif" in as_mif1[16:size]
    assert sniff_content_type(as_mif1) == "image/avif"


@pytest.mark.parametrize(
    "size, source, options",
    [
        ("24 MP", "PNG with alpha", {"format": "webp"}),
        ("48 MP", "JPEG", {"bgcolor": (255, 255, 255, 255)}),
    ],
)
def test_a_cutout_at_24_and_48_megapixels(size, source, options, u2netp_session):
    photo = camera_photo(CAMERA_SIZES[size], source="astronaut")
    data = encoded(with_transparent_margins(photo), "PNG", compress_level=1) if "PNG" in source else jpeg_bytes(photo)

    result = remove_background(data, session=u2netp_session, **options, **BIG)

    cutout = decode(result.data).convert("RGBA")
    assert cutout.size == CAMERA_SIZES[size] == (result.width, result.height)
    pixels = np.asarray(cutout)
    corner = pixels[: cutout.height // 10, : cutout.width // 10]
    subject = pixels[cutout.height * 2 // 5 : cutout.height * 3 // 5, cutout.width * 2 // 5 : cutout.width * 3 // 5]
    if "bgcolor" in options:
        assert (corner[:, :, :3] > 240).all() and (pixels[:, :, 3] == 255).all(), "on white, opaque"
    else:
        assert corner[:, :, 3].mean() < 5, "the background is transparent"
    assert subject[:, :, 3].mean() > 200, "the subject stays"


def test_alpha_matting_on_a_camera_photo_finishes_with_soft_edges(u2netp_session):
    photo = camera_photo(CAMERA_SIZES["12 MP"], source="astronaut")

    matted = decode(remove_background(jpeg_bytes(photo), session=u2netp_session, alpha_matting=True, **BIG).data)
    plain = decode(remove_background(jpeg_bytes(photo), session=u2netp_session, **BIG).data)

    assert matted.size == photo.size and matted.mode == "RGBA"
    alpha, plain_alpha = np.asarray(matted)[:, :, 3], np.asarray(plain)[:, :, 3]
    assert ((alpha > 0) & (alpha < 255)).any(), "matting leaves soft edges"
    assert np.abs(alpha.astype(np.int16) - plain_alpha).mean() < 12, "around the same subject as the plain mask"
