"""Real photos (scikit-image's samples) as upload bytes, limits, and the rembg model directory.

The imaging code is pure: these tests need no database, no Redis and no Django settings.
"""

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as samples

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}
# Found by detect_faces on astronaut() (512x512), as x, y, w, h; it matches the face by eye.
ASTRONAUT_FACE = (177, 66, 95, 95)
REMBG_HOME_CANDIDATES = (str(Path(__file__).resolve().parents[2] / "var" / "rembg"), "/tmp/darkroom-rembg-home")
ORIENTATION = 0x0112


def jpeg_bytes(source: np.ndarray | Image.Image, *, quality: int = 90, **save_options) -> bytes:
    img = Image.fromarray(source) if isinstance(source, np.ndarray) else source
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality, **save_options)
    return buffer.getvalue()


def image_bytes(img: Image.Image, format: str, **save_options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=format, **save_options)
    return buffer.getvalue()


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


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    return jpeg_bytes(samples.astronaut())


@pytest.fixture(scope="session")
def chelsea_jpeg() -> bytes:
    return jpeg_bytes(samples.chelsea())


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    return jpeg_bytes(samples.coffee())


@pytest.fixture(scope="session")
def rembg_home() -> str:
    """A REMBG_HOME holding models/u2netp/u2netp.onnx (the Makefile provisions one)."""
    candidates = [os.environ.get("DARKROOM_TEST_REMBG_HOME"), *REMBG_HOME_CANDIDATES]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "models" / "u2netp" / "u2netp.onnx").is_file():
            return candidate
    pytest.skip(
        "the rembg model u2netp is not installed: put models/u2netp/u2netp.onnx under "
        "$DARKROOM_TEST_REMBG_HOME, /work/main/var/rembg or /tmp/darkroom-rembg-home"
    )


@pytest.fixture(scope="session")
def u2netp_session(rembg_home):
    from processing.lib.rembg.sessions import get_session

    return get_session("u2netp", home=rembg_home)
