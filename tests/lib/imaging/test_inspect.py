import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from processing.lib.errors import ImageTooLarge, InvalidImage
from processing.lib.imaging.inspect import load_image
from processing.lib.imaging.sniff import sniff_content_type
from tests.support.photos import LIMITS, encoded, rotated_jpeg


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming width x height with one row of pixel data: a decompression bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    one_row = zlib.compress(b"\x00" * (1 + 3 * width))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", one_row) + png_chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("format", "content_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
        ("ICO", "image/x-icon"),
    ],
)
def test_sniff_content_type_reads_magic_bytes(format, content_type):
    data = encoded(Image.new("RGB", (16, 16), "orange"), format)

    assert sniff_content_type(data) == content_type


def test_sniff_content_type_knows_svg_and_nothing_else():
    assert sniff_content_type(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>') == "image/svg+xml"
    assert sniff_content_type(b"BMW is not a bitmap, just text") is None
    assert sniff_content_type(b"") is None


def test_loads_a_photo_as_rgb(astronaut_jpeg):
    img = load_image(astronaut_jpeg, **LIMITS)

    assert (img.size, img.mode) == ((512, 512), "RGB")


def test_keeps_transparency_as_rgba():
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0])
    palette.putpixel((0, 0), 1)
    data = encoded(palette, "PNG", transparency=0)

    img = load_image(data, **LIMITS)

    assert img.mode == "RGBA"
    assert img.getpixel((5, 5))[3] == 0
    assert img.getpixel((0, 0)) == (0, 255, 0, 255)


def test_animation_gives_its_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])

    img = load_image(data, **LIMITS)

    assert img.mode == "RGB"
    assert img.getpixel((4, 4)) == (255, 0, 0)


def test_sixteen_bit_grey_keeps_its_tones():
    ramp = np.linspace(0, 65535, 64 * 64).astype(np.uint16).reshape(64, 64)
    data = encoded(Image.fromarray(ramp), "PNG")

    img = load_image(data, **LIMITS)

    assert img.mode == "L"
    assert img.getpixel((0, 0)) == 0 and img.getpixel((63, 63)) == 255


def test_exif_orientation_is_applied():
    # Orientation 6: stored 40x20, shown turned 90 degrees clockwise, so 20x40 with the
    # stored top-left corner now at the top right.
    img = load_image(rotated_jpeg(40, 20), **LIMITS)

    assert img.size == (20, 40)
    red, _, blue = img.getpixel((18, 1))
    assert red > 200 and blue < 60
    assert img.getexif().get(0x0112) in (None, 1)


def test_empty_upload_is_refused():
    with pytest.raises(InvalidImage, match="empty"):
        load_image(b"", **LIMITS)


def test_too_many_bytes_is_refused(astronaut_jpeg):
    with pytest.raises(ImageTooLarge, match="bytes"):
        load_image(astronaut_jpeg, max_bytes=len(astronaut_jpeg) - 1, max_pixels=LIMITS["max_pixels"])


def test_random_bytes_are_not_an_image():
    noise = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()

    with pytest.raises(InvalidImage, match=r"not an image Darkroom can read \(detected: unknown binary data\)"):
        load_image(noise, **LIMITS)


def test_text_file_is_not_an_image():
    with pytest.raises(InvalidImage, match=r"detected: text"):
        load_image("name,price\nmug,12.50\nthé,3\n".encode(), **LIMITS)


def test_formats_outside_the_list_are_refused_even_if_pillow_reads_them():
    icon = encoded(Image.new("RGB", (32, 32), "green"), "ICO")

    with pytest.raises(InvalidImage, match=r"detected: image/x-icon"):
        load_image(icon, **LIMITS)


def test_svg_is_refused_with_its_type():
    with pytest.raises(InvalidImage, match=r"detected: image/svg\+xml"):
        load_image(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', **LIMITS)


def test_truncated_jpeg_is_invalid(astronaut_jpeg):
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        load_image(astronaut_jpeg[: len(astronaut_jpeg) // 2], **LIMITS)


def test_truncated_png_is_invalid():
    data = encoded(Image.effect_noise((64, 64), 50), "PNG")

    with pytest.raises(InvalidImage):
        load_image(data[: len(data) // 2], **LIMITS)


def test_corrupt_jpeg_body_is_invalid(astronaut_jpeg):
    corrupt = astronaut_jpeg[:600] + b"\x00" * 20 + b"\xff\xd9"

    with pytest.raises(InvalidImage):
        load_image(corrupt, **LIMITS)


def test_huge_dimensions_are_refused_before_decoding():
    # One row of pixel data only: decoding would fail as InvalidImage, so ImageTooLarge proves
    # the size was checked first.
    # 8000x8000 is over our 40M pixel limit but under Pillow's own.
    with pytest.raises(ImageTooLarge, match="8000x8000 pixels; the limit is 40000000"):
        load_image(png_header_only(8000, 8000), **LIMITS)


def test_pillows_own_bomb_error_becomes_image_too_large():
    with pytest.raises(ImageTooLarge):
        load_image(png_header_only(20000, 20000), max_bytes=LIMITS["max_bytes"], max_pixels=10**10)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pillows_bomb_warning_becomes_image_too_large():
    pixels = 10000 * 10000
    assert Image.MAX_IMAGE_PIXELS < pixels < 2 * Image.MAX_IMAGE_PIXELS

    with pytest.raises(ImageTooLarge):
        load_image(png_header_only(10000, 10000), max_bytes=LIMITS["max_bytes"], max_pixels=10**10)


def test_a_small_file_with_many_pixels_is_refused():
    data = encoded(Image.new("L", (3000, 3000)), "PNG")
    assert len(data) < 50_000

    with pytest.raises(ImageTooLarge, match="3000x3000"):
        load_image(data, max_bytes=LIMITS["max_bytes"], max_pixels=4_000_000)


def test_unreadable_header_of_an_allowed_type_is_called_corrupt():
    with pytest.raises(InvalidImage, match="looks like image/png but its header is corrupt"):
        load_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, **LIMITS)


def test_checking_an_uploads_or_a_urls_type_loads_no_decoder():
    code = (
        "import sys, processing.lib.http.fetch, processing.lib.imaging.upload_type;"
        "print(sorted(name for name in ('numpy', 'PIL') if name in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert answer.stdout.strip() == "[]"
