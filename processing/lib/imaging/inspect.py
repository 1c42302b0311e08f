"""Turn untrusted upload bytes into a decoded, upright PIL image, or refuse them."""

import io
import struct
import zlib

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from processing.lib.errors import ImageTooLarge, InvalidImage
from processing.lib.imaging.sniff import ACCEPTED_NAMES, ALLOWED_CONTENT_TYPES, sniff_content_type

# HEIC, iPhones' default, is read by pillow-heif's opener (format "HEIF"); AVIF by Pillow itself.
pillow_heif.register_heif_opener()

# Pillow format names we let parse an upload; everything else is refused before decoding.
# MPO (multi-picture JPEG, from cameras and phones) has no opener of its own: JPEG's returns it.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")

# What a corrupt or truncated file can make Pillow's decoders raise.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error)


def load_image(
    data: bytes, *, max_bytes: int, max_pixels: int, draft_size: tuple[int, int] | None = None
) -> Image.Image:
    """Decode an upload into an upright RGB, RGBA (or L) image; first frame of animations.

    draft_size lets a JPEG decode at a reduced scale, no smaller than that size (for previews).

    Raises ImageTooLarge for too many bytes or pixels (checked before decoding) and
    InvalidImage for anything that is not a complete image in an allowed format.
    """
    if not data:
        raise InvalidImage("the upload is empty")
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the upload is {len(data)} bytes; the limit is {max_bytes} bytes")

    try:
        img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the image has too many pixels ({exc})") from exc
    except UnidentifiedImageError as exc:
        detected = _describe(data)
        if detected in ALLOWED_CONTENT_TYPES:
            raise InvalidImage(f"the upload looks like {detected} but its header is corrupt") from exc
        raise InvalidImage(
            f"the upload is not an image Darkroom can read (detected: {detected}); send {ACCEPTED_NAMES}"
        ) from exc
    except _DECODE_ERRORS as exc:
        raise InvalidImage(f"the image header is corrupt ({exc})") from exc

    _check_pixels(img, max_pixels=max_pixels)
    if draft_size is not None and img.format == "JPEG":
        img.draft(None, draft_size)
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the image has too many pixels ({exc})") from exc
    except _DECODE_ERRORS as exc:
        raise InvalidImage(f"the image data is truncated or corrupt ({exc})") from exc
    # A GIF frame can grow the canvas while decoding.
    _check_pixels(img, max_pixels=max_pixels)

    try:
        ImageOps.exif_transpose(img, in_place=True)
    except _DECODE_ERRORS:
        pass  # Unreadable EXIF: show the pixels as stored rather than refuse the photo.
    return _to_working_mode(img)


def _check_pixels(img: Image.Image, *, max_pixels: int) -> None:
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"the image is {width}x{height} pixels; the limit is {max_pixels} pixels")
    # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that. Turning the warning into an
    # error with warnings.catch_warnings is not thread-safe on Python 3.11, so apply its limit here.
    pillow_limit = Image.MAX_IMAGE_PIXELS
    if pillow_limit is not None and width * height > pillow_limit:
        raise ImageTooLarge(f"the image is {width}x{height} pixels; the limit is {pillow_limit} pixels")


def _to_working_mode(img: Image.Image) -> Image.Image:
    """RGB or RGBA for colour, L for plain grey: every later step can rely on that."""
    if img.mode == "RGBA" or (img.mode in ("RGB", "L") and not img.has_transparency_data):
        return img
    try:
        if img.mode == "CMYK":
            return _cmyk_to_rgb(img)
        if img.mode.startswith("I"):
            return _sixteen_bit_to_grey(img)
        converted = img.convert("RGBA" if img.has_transparency_data else "RGB")
    except ValueError as exc:
        raise InvalidImage(f"the image uses an unsupported pixel format ({img.mode})") from exc
    if img.mode in ("1", "L", "LA", "La"):
        # A grey ICC profile does not describe RGB pixels.
        converted.info.pop("icc_profile", None)
    return converted


def _cmyk_to_rgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    rgb = None
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(img, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            rgb = None
    if rgb is None:
        rgb = img.convert("RGB")
    # The pixels are no longer described by the CMYK profile.
    rgb.info = {key: value for key, value in img.info.items() if key != "icc_profile"}
    return rgb


def _sixteen_bit_to_grey(img: Image.Image) -> Image.Image:
    values = np.asarray(img).astype(np.int64)
    if img.mode != "I" or values.max(initial=0) > 255:
        values = values >> 8
    grey = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    grey.info = dict(img.info)
    return grey


def _describe(data: bytes) -> str:
    """A human name for what an unreadable upload seems to be."""
    content_type = sniff_content_type(data)
    if content_type:
        return content_type
    head = data[:1024]
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive"
    text = head.decode("utf-8", errors="replace")
    readable = sum(ch != "\ufffd" and (ch.isprintable() or ch in "\r\n\t") for ch in text)
    # A little slack: the cut at 1024 bytes can split a multibyte character.
    if text and readable >= 0.95 * len(text):
        return "text"
    return "unknown binary data"
