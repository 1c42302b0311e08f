"""Resizing: fit inside a box, fill a box, stretch, thumbnail."""

from PIL import Image, ImageOps

from processing.lib.errors import InvalidOptions
from processing.lib.imaging.bounds import TRIM_PADDING_MAX
from processing.lib.imaging.encode import encode, normalize_format
from processing.lib.imaging.inspect import load_image
from processing.lib.imaging.output import ImageOutput

RESIZE_MODES = ("fit", "fill", "exact")
TRANSFORM_MODES = (*RESIZE_MODES, "thumbnail")
_RESAMPLE = Image.Resampling.LANCZOS
# Shrink by whole factors first when downscaling a lot: much faster, no visible difference.
_REDUCING_GAP = 3.0


def resize(
    img: Image.Image,
    *,
    width: int | None,
    height: int | None,
    mode: str = "fit",
    upscale: bool = False,
    max_pixels: int | None = None,
) -> Image.Image:
    """fit: inside width x height, aspect kept (one side may be None), no upscaling unless upscale=True.
    fill: cover the box, then centre-crop to exactly width x height.  exact: stretch to width x height.
    max_pixels refuses (InvalidOptions) a result larger than that.

    Returns the input itself when nothing changes; never modifies it.
    """
    _check_resize_params(width=width, height=height, mode=mode)
    if mode != "fit":
        box = _box(width, height)
        if max_pixels is not None:
            _check_output_pixels(box[0] * box[1], max_pixels=max_pixels)
        if mode == "exact":
            return img.resize(box, _RESAMPLE, reducing_gap=_REDUCING_GAP)
        return ImageOps.fit(img, box, method=_RESAMPLE, centering=(0.5, 0.5))
    scales = []
    if width is not None:
        scales.append(width / img.width)
    if height is not None:
        scales.append(height / img.height)
    scale = min(scales)
    if not upscale:
        scale = min(scale, 1.0)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if max_pixels is not None:
        _check_output_pixels(size[0] * size[1], max_pixels=max_pixels)
    if size == img.size:
        return img
    return img.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)


def thumbnail(img: Image.Image, *, size: int) -> Image.Image:
    """Longest side becomes `size`; smaller images are left as they are."""
    _check_dimension("size", size)
    return resize(img, width=size, height=size, mode="fit")


def trim_transparent(img: Image.Image, *, padding: int = 0) -> Image.Image:
    """Crop to the subject: cut away the fully transparent borders, keeping `padding` px of them.

    An image without transparency (or entirely transparent) is returned as it is.
    """
    _check_padding(padding)
    if img.mode != "RGBA":
        return img
    box = img.getchannel("A").getbbox()
    if box is None or box == (0, 0, img.width, img.height):
        return img
    left, top, right, bottom = box
    box = (
        max(0, left - padding),
        max(0, top - padding),
        min(img.width, right + padding),
        min(img.height, bottom + padding),
    )
    trimmed = img.crop(box)
    trimmed.info = dict(img.info)
    return trimmed


def transform(
    data: bytes,
    *,
    width: int | None = None,
    height: int | None = None,
    mode: str = "fit",
    format: str = "PNG",
    quality: int = 90,
    strip_metadata: bool = True,
    upscale: bool = False,
    trim: bool = False,
    trim_padding: int = 0,
    max_bytes: int,
    max_pixels: int,
) -> ImageOutput:
    """Decode (upright by its EXIF orientation), optionally trim to the subject, resize, encode.

    mode "thumbnail" takes the size from `width`; mode "fit" without width or height keeps the
    size (a format conversion or metadata strip only).
    """
    format = normalize_format(format, quality=quality)
    _check_padding(trim_padding)
    keep_size = mode == "fit" and width is None and height is None
    size = 0
    if keep_size:
        pass
    elif mode == "thumbnail":
        given = width if width is not None else height
        if given is None:
            raise InvalidOptions("a thumbnail needs a size: give width")
        _check_dimension("width", given)
        size = given
    else:
        _check_resize_params(width=width, height=height, mode=mode)
        if mode != "fit":
            box = _box(width, height)
            _check_output_pixels(box[0] * box[1], max_pixels=max_pixels)

    img = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    if trim:
        img = trim_transparent(img, padding=trim_padding)
    if keep_size:
        resized = img
    elif mode == "thumbnail":
        resized = thumbnail(img, size=size)
    else:
        resized = resize(img, width=width, height=height, mode=mode, upscale=upscale, max_pixels=max_pixels)
    return encode(resized, format=format, quality=quality, strip_metadata=strip_metadata)


def _check_resize_params(*, width: int | None, height: int | None, mode: str) -> None:
    if mode not in RESIZE_MODES:
        raise InvalidOptions(f"unknown resize mode {mode!r}; use one of {', '.join(TRANSFORM_MODES)}")
    if width is None and height is None:
        raise InvalidOptions("give width, height or both")
    if mode != "fit" and (width is None or height is None):
        raise InvalidOptions(f"mode {mode!r} needs both width and height")
    if width is not None:
        _check_dimension("width", width)
    if height is not None:
        _check_dimension("height", height)


def _check_dimension(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidOptions(f"{name} must be a positive integer, not {value!r}")


def _check_padding(padding: object) -> None:
    if isinstance(padding, bool) or not isinstance(padding, int) or not 0 <= padding <= TRIM_PADDING_MAX:
        raise InvalidOptions(f"trim padding must be an integer from 0 to {TRIM_PADDING_MAX}, not {padding!r}")


def _box(width: int | None, height: int | None) -> tuple[int, int]:
    """Both sides, which _check_resize_params asks for in every mode but fit."""
    if width is None or height is None:
        raise InvalidOptions("give both width and height")
    return width, height


def _check_output_pixels(pixels: int, *, max_pixels: int) -> None:
    if pixels > max_pixels:
        raise InvalidOptions(f"the requested size is {pixels} pixels; the limit is {max_pixels} pixels")
