"""Small previews for grids: the longest side THUMBNAIL_SIDE px, as WebP, cheaply.

A JPEG is decoded at a reduced scale (libjpeg's DCT scaling through Image.draft), so a 25 MB
photo costs a fraction of a full decode; transparency is kept for cut-outs.
"""

import io

from PIL import Image

from processing.lib.imaging.inspect import load_image
from processing.lib.imaging.output import ImageOutput

THUMBNAIL_SIDE = 320
_WEBP_OPTIONS = {"quality": 75, "method": 4}


def is_preview_sized(width: int | None, height: int | None, *, side: int = THUMBNAIL_SIDE) -> bool:
    """An image no larger than its preview would be is its own preview."""
    return width is not None and height is not None and 0 < max(width, height) <= side


def thumbnail(data: bytes, *, side: int = THUMBNAIL_SIDE, max_bytes: int, max_pixels: int) -> ImageOutput:
    """Raises what load_image raises for bad input (InvalidImage, ImageTooLarge)."""
    img = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels, draft_size=(side, side))
    img.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if img.has_transparency_data else "RGB")
    buffer = io.BytesIO()
    img.save(buffer, format="WEBP", **_WEBP_OPTIONS)
    return ImageOutput(data=buffer.getvalue(), content_type="image/webp", width=img.width, height=img.height)
