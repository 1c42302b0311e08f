"""Real photos (scikit-image's samples) and plain images as upload bytes, image helpers, limits,
and where the rembg model is. The imaging code is pure: its tests need no database, no Redis, no
settings; and nothing here imports Django, so the schemathesis hooks can use it too."""

import io

import numpy as np
from PIL import Image

from tests.support.paths import ROOT

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}
# Found by detect_faces on astronaut() (512x512), as x, y, w, h; it matches the face by eye.
ASTRONAUT_FACE = (177, 66, 95, 95)
REMBG_HOME_CANDIDATES = (str(ROOT / "var" / "rembg"), "/tmp/darkroom-rembg-home")
ORIENTATION = 0x0112


def jpeg_bytes(source: np.ndarray | Image.Image, *, quality: int = 90, **save_options) -> bytes:
    img = Image.fromarray(source) if isinstance(source, np.ndarray) else source
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality, **save_options)
    return buffer.getvalue()


def encoded(img: Image.Image, format: str, **save_options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=format, **save_options)
    return buffer.getvalue()


def image_bytes(size=(8, 8), color=(200, 30, 30), *, format: str = "PNG") -> bytes:
    """A plain image; a four-channel colour makes an RGBA one."""
    return encoded(Image.new("RGBA" if len(color) == 4 else "RGB", size, color), format)


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def rotated_jpeg(width: int, height: int, *, orientation: int = 6) -> bytes:
    """A width x height JPEG, red square at its stored top-left, shown rotated by its EXIF tag."""
    img = Image.new("RGB", (width, height), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, max(2, width // 5), max(2, height // 5)))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return jpeg_bytes(img, quality=95, exif=exif.tobytes())


# Photos at the sizes vendors bring: studio cameras and phones make 12 to 48 MP. Pillow keeps an
# image above its block size (16 MiB: 2048 x 2048 RGBA) in several blocks of memory, a path no
# 512 px sample takes.
CAMERA_SIZES = {"12 MP": (4000, 3000), "24 MP": (6000, 4000), "48 MP": (8000, 6000)}
IPHONE_SIZE = (4032, 3024)  # an iPhone's 12 MP photo, HEIC by default


def camera_photo(size: tuple[int, int], *, source: str = "chelsea") -> Image.Image:
    """One of scikit-image's real photos, scaled to a camera's size (RGB)."""
    from skimage import data as samples

    return Image.fromarray(getattr(samples, source)()).convert("RGB").resize(size, Image.Resampling.BICUBIC)


def with_transparent_margins(img: Image.Image) -> Image.Image:
    """A product shot already cut out on a transparent canvas: RGBA, the outer sixth clear."""
    alpha = Image.new("L", img.size, 0)
    alpha.paste(255, (img.width // 6, img.height // 6, img.width * 5 // 6, img.height * 5 // 6))
    rgba = img.convert("RGBA")
    rgba.putalpha(alpha)
    return rgba


def exif_rotated(img: Image.Image, *, orientation: int = 6) -> bytes:
    """The EXIF block of a photo taken with the camera turned: shown turned by `orientation`."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def png16(img: Image.Image) -> bytes:
    """A PNG with 16 bits per channel (RGB or RGBA), as scanners and raw converters write it;
    Pillow writes 8-bit colour PNGs only, so this one is assembled by hand."""
    import struct
    import zlib

    pixels = np.asarray(img).astype(">u2") * 257  # every 8-bit value v as the 16-bit v * 257
    height, width, channels = pixels.shape
    scanlines = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter type 0 on each row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, {3: 2, 4: 6}[channels], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 1))
        + chunk(b"IEND", b"")
    )


def heic_bytes(img: Image.Image, **save_options) -> bytes:
    """A HEIC as an iPhone writes it (HEVC in HEIF), through pillow-heif; x265's fastest preset
    keeps a 12 MP encode to seconds."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encoded(img, "HEIF", quality=60, enc_params={"preset": "ultrafast"}, **save_options)
