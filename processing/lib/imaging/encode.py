"""Encode a PIL image as PNG, JPEG or WebP bytes."""

import io
from typing import Any

from PIL import Image, ImageCms

from processing.lib.errors import InvalidOptions
from processing.lib.imaging.bounds import QUALITY_MAX, QUALITY_MIN
from processing.lib.imaging.output import ImageOutput

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_ALIASES = {"JPG": "JPEG"}
_ORIENTATION_TAG = 0x0112
_JPEG_BACKGROUND = (255, 255, 255)
# zlib level 1 instead of Pillow's default 6: 2.6x faster to write for about +20 % bytes on a
# 1024 px cut-out (bench/rembg_speed.py, docs/benchmarks.md). Level 0 is faster still but 6x larger.
PNG_COMPRESS_LEVEL = 1
# Lossless WebP at the least effort (method 0, quality 0): faster than PNG level 1 and smaller;
# more effort buys ~25 % fewer bytes at 4-10x the time (docs/benchmarks.md).
WEBP_LOSSLESS_OPTIONS = {"lossless": True, "method": 0, "quality": 0, "exact": True}


def normalize_format(format: str, *, quality: int = 90) -> str:
    """The Pillow name of an output format ("png" -> "PNG"); InvalidOptions for anything else.

    Checks quality too, so callers can refuse bad parameters before decoding anything.
    """
    name = _ALIASES.get(str(format).upper(), str(format).upper())
    if name not in CONTENT_TYPES:
        raise InvalidOptions(f"unsupported output format {format!r}; use one of PNG, JPEG, WEBP")
    if isinstance(quality, bool) or not isinstance(quality, int) or not QUALITY_MIN <= quality <= QUALITY_MAX:
        raise InvalidOptions(f"quality must be an integer from {QUALITY_MIN} to {QUALITY_MAX}, not {quality!r}")
    return name


def encode(
    img: Image.Image,
    *,
    format: str = "PNG",
    quality: int = 90,
    strip_metadata: bool = True,
    lossless: bool = False,
) -> ImageOutput:
    """JPEG is flattened on white; PNG and WebP keep alpha. lossless=True makes WebP lossless
    (quality is then ignored); PNG always is.

    strip_metadata=True writes neither EXIF nor ICC (pixels are converted to sRGB first so
    colours survive losing the profile); False keeps both, with the EXIF orientation set to 1.
    """
    name = normalize_format(format, quality=quality)
    prepared = _in_output_mode(img, name)
    icc_profile = _profile_for(prepared.mode, img.info.get("icc_profile"))
    if strip_metadata and icc_profile:
        prepared = _to_srgb(prepared, icc_profile)

    options: dict[str, Any] = {"icc_profile": None}
    if name == "JPEG":
        options.update(quality=quality, optimize=True, comment=None)
    elif name == "PNG":
        options.update(compress_level=PNG_COMPRESS_LEVEL)
    elif lossless:
        options.update(WEBP_LOSSLESS_OPTIONS)
    else:
        options.update(quality=quality, method=4)
    if not strip_metadata:
        options["icc_profile"] = icc_profile
        exif = Image.Exif()  # a copy: the caller's image keeps its own
        exif.load(img.getexif().tobytes())
        if len(exif):
            exif[_ORIENTATION_TAG] = 1
            options["exif"] = exif.tobytes()

    buffer = io.BytesIO()
    prepared.save(buffer, format=name, **options)
    return ImageOutput(
        data=buffer.getvalue(), content_type=CONTENT_TYPES[name], width=prepared.width, height=prepared.height
    )


def _in_output_mode(img: Image.Image, name: str) -> Image.Image:
    has_alpha = img.has_transparency_data
    if name == "JPEG":
        if has_alpha:
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", img.size, _JPEG_BACKGROUND)
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return img if img.mode == "RGB" else img.convert("RGB")
    kept_modes = ("RGB", "RGBA", "L") if name == "PNG" else ("RGB", "RGBA")
    if img.mode in kept_modes:
        return img
    return img.convert("RGBA" if has_alpha else "RGB")


def _profile_for(mode: str, icc_profile: bytes | None) -> bytes | None:
    """The profile if it describes pixels of this mode (a grey one does not fit RGB)."""
    if not icc_profile:
        return None
    try:
        colour_space = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)).profile.xcolor_space.strip()
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    expected = "GRAY" if mode == "L" else "RGB"
    return icc_profile if colour_space == expected else None


def _to_srgb(img: Image.Image, icc_profile: bytes) -> Image.Image:
    if img.mode not in ("RGB", "RGBA"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if "srgb" in ImageCms.getProfileDescription(source).lower():
            return img
        converted = ImageCms.profileToProfile(img, source, ImageCms.createProfile("sRGB"), outputMode=img.mode)
        return converted if converted is not None else img  # None only when converting in place
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A broken or mismatched profile: the pixels are all we can trust.
        return img
