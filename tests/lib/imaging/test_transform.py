import struct

import pytest
from PIL import Image, ImageCms
from skimage import data as samples

from processing.lib.errors import InvalidImage, InvalidOptions
from processing.lib.imaging.encode import encode
from processing.lib.imaging.transform import resize, thumbnail, transform
from tests.support.photos import LIMITS, ORIENTATION, decode, jpeg_bytes, rotated_jpeg

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
SOFTWARE = 0x0131


@pytest.fixture(scope="module")
def coffee() -> Image.Image:
    return Image.fromarray(samples.coffee())  # 600x400


def test_fit_keeps_the_aspect_inside_the_box(coffee):
    assert resize(coffee, width=300, height=300, mode="fit").size == (300, 200)
    assert resize(coffee, width=None, height=100, mode="fit").size == (150, 100)
    assert resize(coffee, width=120, height=None).size == (120, 80)


def test_fit_does_not_upscale_unless_asked(coffee):
    assert resize(coffee, width=1200, height=None).size == (600, 400)
    assert resize(coffee, width=1200, height=None, upscale=True).size == (1200, 800)


def test_fill_covers_then_crops_to_the_exact_size(coffee):
    filled = resize(coffee, width=200, height=200, mode="fill")

    assert filled.size == (200, 200)
    # Centre crop: the middle of the result is the middle of the photo.
    scaled_centre = coffee.resize((300, 200)).getpixel((150, 100))
    assert all(abs(a - b) < 25 for a, b in zip(filled.getpixel((100, 100)), scaled_centre, strict=True))


def test_exact_stretches(coffee):
    assert resize(coffee, width=123, height=45, mode="exact").size == (123, 45)


def test_thumbnail_bounds_the_longest_side(coffee):
    assert thumbnail(coffee, size=64).size == (64, 43)
    assert thumbnail(coffee, size=5000).size == (600, 400)


def test_resize_leaves_its_input_alone(coffee):
    resize(coffee, width=50, height=50, mode="fill")

    assert coffee.size == (600, 400)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"width": 10, "height": 10, "mode": "zoom"}, "unknown resize mode"),
        ({"width": None, "height": None}, "width, height or both"),
        ({"width": 0, "height": 10}, "positive integer"),
        ({"width": 10.5, "height": 10}, "positive integer"),
        ({"width": 10, "height": None, "mode": "fill"}, "needs both"),
        ({"width": 10, "height": None, "mode": "exact"}, "needs both"),
    ],
)
def test_bad_resize_parameters_are_refused(coffee, params, message):
    with pytest.raises(InvalidOptions, match=message):
        resize(coffee, **params)


@pytest.mark.parametrize(
    ("format", "pillow_format", "content_type"),
    [
        ("PNG", "PNG", "image/png"),
        ("jpeg", "JPEG", "image/jpeg"),
        ("webp", "WEBP", "image/webp"),
        ("jpg", "JPEG", "image/jpeg"),
    ],
)
def test_transform_produces_the_asked_size_and_format(coffee_jpeg, format, pillow_format, content_type):
    output = transform(coffee_jpeg, width=200, height=200, mode="fill", format=format, quality=80, **LIMITS)

    img = decode(output.data)
    assert (img.format, img.size, img.mode) == (pillow_format, (200, 200), "RGB")
    assert (output.content_type, output.width, output.height) == (content_type, 200, 200)


def test_transform_thumbnail_takes_its_size_from_width(coffee_jpeg):
    output = transform(coffee_jpeg, width=100, mode="thumbnail", format="JPEG", **LIMITS)

    assert decode(output.data).size == (100, 67)
    assert output.extension == "jpg"


def test_transform_applies_exif_orientation():
    # Stored 300x200, shown 200x300: fitting to width 150 gives 150x225.
    output = transform(rotated_jpeg(300, 200), width=150, height=None, mode="fit", format="PNG", **LIMITS)

    assert decode(output.data).size == (150, 225)


def test_transform_refuses_bad_params_before_decoding():
    # The bytes are not an image: InvalidOptions shows the parameters were checked first.
    with pytest.raises(InvalidOptions, match="unsupported output format"):
        transform(b"not an image", width=10, format="gif", **LIMITS)
    with pytest.raises(InvalidOptions, match="quality"):
        transform(b"not an image", width=10, format="JPEG", quality=0, **LIMITS)
    with pytest.raises(InvalidOptions, match="thumbnail needs a size"):
        transform(b"not an image", mode="thumbnail", **LIMITS)
    with pytest.raises(InvalidImage):
        transform(b"not an image", width=10, **LIMITS)


def test_transform_refuses_an_output_over_the_pixel_limit(coffee_jpeg):
    with pytest.raises(InvalidOptions, match="requested size"):
        transform(
            coffee_jpeg, width=10_000, height=10_000, mode="exact", max_bytes=LIMITS["max_bytes"], max_pixels=10**6
        )
    with pytest.raises(InvalidOptions, match="requested size"):
        transform(coffee_jpeg, width=5000, upscale=True, max_bytes=LIMITS["max_bytes"], max_pixels=10**6)


def test_png_and_webp_keep_alpha_jpeg_is_flattened_on_white():
    img = Image.new("RGBA", (20, 10), (0, 0, 255, 0))
    img.paste((255, 0, 0, 255), (0, 0, 10, 10))

    for format in ("PNG", "WEBP"):
        decoded = decode(encode(img, format=format).data)
        assert decoded.mode == "RGBA"
        assert decoded.getpixel((15, 5))[3] == 0 and decoded.getpixel((5, 5))[3] == 255
    flat = decode(encode(img, format="JPEG").data)
    assert flat.mode == "RGB"
    assert all(channel > 245 for channel in flat.getpixel((15, 5)))
    assert flat.getpixel((5, 5))[0] > 230


def _photo_with_metadata() -> Image.Image:
    exif = Image.Exif()
    exif[SOFTWARE] = "darkroom-test"
    exif[ORIENTATION] = 1
    data = jpeg_bytes(samples.coffee(), exif=exif.tobytes(), icc_profile=SRGB_ICC)
    return decode(data)


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP"])
def test_strip_metadata_removes_exif_and_icc(format):
    output = encode(_photo_with_metadata(), format=format, strip_metadata=True)

    img = decode(output.data)
    assert not img.info.get("icc_profile")
    assert not img.info.get("exif")
    assert len(img.getexif()) == 0


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP"])
def test_keeping_metadata_keeps_icc_and_exif_with_orientation_reset(format):
    original = decode(rotated_jpeg(40, 20))
    original.info["icc_profile"] = SRGB_ICC

    img = decode(encode(original, format=format, strip_metadata=False).data)

    assert img.info.get("icc_profile") == SRGB_ICC
    assert img.getexif()[ORIENTATION] == 1
    assert original.getexif()[ORIENTATION] == 6  # the input is left alone


def test_keeping_metadata_keeps_other_exif_tags():
    img = decode(encode(_photo_with_metadata(), format="JPEG", strip_metadata=False).data)

    assert img.getexif()[SOFTWARE] == "darkroom-test"


def linear_rgb_icc() -> bytes:
    """A minimal ICC v2 display profile: sRGB primaries with a linear (gamma 1) tone curve."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    text = b"Linear RGB test profile\0"
    description = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 4 + b"\0" * 4 + b"\0" * 3 + b"\0" * 67
    tags = [
        (b"desc", description),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", b"curv\0\0\0\0" + struct.pack(">I", 0)),  # no entries: the identity curve
        (b"cprt", b"text\0\0\0\0no copyright\0"),
    ]
    tags += [(b"gTRC", tags[5][1]), (b"bTRC", tags[5][1])]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, payload in tags:
        table += signature + struct.pack(">II", offset + len(body), len(payload))
        body += payload + b"\0" * (-len(payload) % 4)
    size = offset + len(body)
    d50 = s15(0.9642) + s15(1.0) + s15(0.8249)
    # size, cmm, version 2.1, class, colour space, PCS, date, signature, flags..intent, illuminant, rest
    header = struct.pack(
        ">I4s4s4s4s4s12s4s28s12s48s", size, b"", b"\x02\x10", b"mntr", b"RGB ", b"XYZ ", b"", b"acsp", b"", d50, b""
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def test_stripping_a_non_srgb_profile_converts_the_colours_to_srgb():
    grey = Image.new("RGB", (8, 8), (128, 128, 128))
    grey.info["icc_profile"] = linear_rgb_icc()

    stripped = decode(encode(grey, format="PNG", strip_metadata=True).data)
    kept = decode(encode(grey, format="PNG", strip_metadata=False).data)

    # Linear 0.5 is sRGB ~188: the picture looks the same without its profile.
    assert abs(stripped.getpixel((4, 4))[0] - 188) <= 2
    assert kept.getpixel((4, 4)) == (128, 128, 128)
    assert kept.info["icc_profile"] == grey.info["icc_profile"]
