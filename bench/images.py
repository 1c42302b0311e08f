"""Small images the benches submit."""

import io

from PIL import Image


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 128, 255)).save(buffer, format="PNG")
    return buffer.getvalue()
