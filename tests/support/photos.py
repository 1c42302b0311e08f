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
