"""Background removal with rembg's model and rembg's exact pixels; the caller supplies the
(cached) model session.

The result decodes to exactly what rembg.remove gives for the same image, session and options
(tests/lib/imaging/test_background_identity.py checks every option on real photos), with less work
on the common path: no second EXIF turn and copy (load_image already turned the image in
place), the mask from processing.lib.imaging.masks, and the plain cut-out in one pass. Options
whose work is all inside rembg (ViTMatte) go to rembg.remove itself. Two options whose cost
grows much faster than the photo (alpha matting's solve, decontaminate's foreground estimate)
work on a copy scaled down to a bound above it, and are rembg's exactly below it.
"""

import numpy as np
import rembg
from PIL import Image
from rembg import bg as rembg_bg
from rembg.sessions.base import BaseSession

from processing.lib.errors import InvalidOptions
from processing.lib.imaging.bounds import (
    CHANNEL_MAX,
    CUTOUT_FORMATS,
    DECONTAMINATE_MAX_PIXELS,
    ERODE_SIZE_MAX,
    MATTING_MAX_PIXELS,
)
from processing.lib.imaging.encode import encode, normalize_format
from processing.lib.imaging.inspect import load_image
from processing.lib.imaging.masks import predict_mask
from processing.lib.imaging.output import ImageOutput


def remove_background(
    data: bytes,
    *,
    session: BaseSession,
    alpha_matting: bool = False,
    alpha_matting_foreground_threshold: int = 240,
    alpha_matting_background_threshold: int = 10,
    alpha_matting_erode_size: int = 10,
    only_mask: bool = False,
    post_process_mask: bool = False,
    decontaminate: bool = False,
    vitmatte_model: str | None = None,
    bgcolor: tuple[int, int, int, int] | None = None,
    format: str = "PNG",
    quality: int = 90,
    lossless: bool = True,
    max_bytes: int,
    max_pixels: int,
) -> ImageOutput:
    """The subject on a transparent background (RGBA), or on bgcolor; only_mask gives the grey mask.

    decontaminate removes the old background's colour fringing on soft edges (ignored with alpha_matting).
    vitmatte_model refines the edges with that ViTMatte variant (ahead of alpha_matting); its file
    must already be installed (processing.lib.rembg.sessions.require_vitmatte), never downloaded here.
    WebP is lossless unless lossless=False (then quality applies to the colours; alpha stays exact).
    """
    format = normalize_format(format, quality=quality)
    if format.lower() not in CUTOUT_FORMATS:
        raise InvalidOptions(f"a cut-out needs transparency: use PNG or WEBP, not {format}")
    for name, value in (
        ("alpha_matting_foreground_threshold", alpha_matting_foreground_threshold),
        ("alpha_matting_background_threshold", alpha_matting_background_threshold),
    ):
        _check_int(name, value, low=0, high=CHANNEL_MAX)
    _check_int("alpha_matting_erode_size", alpha_matting_erode_size, low=0, high=ERODE_SIZE_MAX)
    if bgcolor is not None:
        bgcolor = _checked_colour(bgcolor)

    img = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    if vitmatte_model is not None:
        result = rembg.remove(
            img,
            session=session,
            alpha_matting=alpha_matting,
            alpha_matting_foreground_threshold=alpha_matting_foreground_threshold,
            alpha_matting_background_threshold=alpha_matting_background_threshold,
            alpha_matting_erode_size=alpha_matting_erode_size,
            only_mask=only_mask,
            post_process_mask=post_process_mask,
            decontaminate=decontaminate,
            vitmatte=vitmatte_model is not None,
            vitmatte_model=vitmatte_model,
            bgcolor=bgcolor,
        )
    else:
        result = _cut_out(
            img,
            session=session,
            alpha_matting=alpha_matting,
            matting_thresholds=(
                alpha_matting_foreground_threshold,
                alpha_matting_background_threshold,
                alpha_matting_erode_size,
            ),
            only_mask=only_mask,
            post_process_mask=post_process_mask,
            decontaminate=decontaminate,
            bgcolor=bgcolor,
        )
    # rembg builds a fresh image; carry the colour profile so encode can convert to sRGB.
    if isinstance(result, Image.Image) and "icc_profile" in img.info and result.mode != "L":
        result.info["icc_profile"] = img.info["icc_profile"]
    return encode(result, format=format, quality=quality, lossless=lossless)


def _cut_out(
    img: Image.Image,
    *,
    session: BaseSession,
    alpha_matting: bool,
    matting_thresholds: tuple[int, int, int],
    only_mask: bool,
    post_process_mask: bool,
    decontaminate: bool,
    bgcolor: tuple[int, int, int, int] | None,
) -> Image.Image:
    """rembg.remove's steps for one mask, in rembg's order and with rembg's own helpers."""
    mask = predict_mask(session, img)
    if post_process_mask:
        mask = Image.fromarray(rembg_bg.post_process(np.array(mask)))
    if only_mask:
        return mask
    if alpha_matting:
        try:
            cutout = _alpha_matting_cutout(img, mask, matting_thresholds)
        except ValueError:
            cutout = _decontaminated_cutout(img, mask)
    elif decontaminate:
        cutout = _decontaminated_cutout(img, mask)
    else:
        cutout = premultiplied_cutout(img, mask)
    return cutout if bgcolor is None else rembg_bg.apply_background_color(cutout, bgcolor)


def _alpha_matting_cutout(img: Image.Image, mask: Image.Image, thresholds: tuple[int, int, int]) -> Image.Image:
    """rembg.bg.alpha_matting_cutout, exactly, up to MATTING_MAX_PIXELS. Its closed-form matting
    grows much faster than the image (1 MP: ~16 s and 1.4 GB; 12 MP: over 8 GB, unfinished after
    minutes), so a larger photo's alpha is estimated on a copy scaled down to that bound (the
    erosion scaled with it) and scaled back up; the foreground colours are then estimated at full
    size, as rembg does after its matting (decontaminate_cutout is that step)."""
    pixels = img.width * img.height
    if pixels <= MATTING_MAX_PIXELS:
        return rembg_bg.alpha_matting_cutout(img, mask, *thresholds)
    scale = (MATTING_MAX_PIXELS / pixels) ** 0.5
    size = (max(1, int(img.width * scale)), max(1, int(img.height * scale)))
    foreground, background, erode = thresholds
    small = rembg_bg.alpha_matting_cutout(
        img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0),
        mask.resize(size, Image.Resampling.LANCZOS),
        foreground,
        background,
        max(1, round(erode * scale)) if erode else 0,
    )
    alpha = small.getchannel("A").resize(img.size, Image.Resampling.LANCZOS)
    return _decontaminated_cutout(img, alpha)


def _decontaminated_cutout(img: Image.Image, alpha: Image.Image) -> Image.Image:
    """rembg.bg.decontaminate_cutout, exactly, up to DECONTAMINATE_MAX_PIXELS. Its foreground
    estimate works in float64 on the whole image (12 MP: ~1.9 GB; 48 MP: ~7 GB and 100 s), so a
    larger photo's edge colours are estimated on a copy scaled down to that bound and scaled back
    up; where the subject is opaque, its own pixels are kept, as the estimate would keep them."""
    pixels = img.width * img.height
    if pixels <= DECONTAMINATE_MAX_PIXELS:
        return rembg_bg.decontaminate_cutout(img, alpha)
    scale = (DECONTAMINATE_MAX_PIXELS / pixels) ** 0.5
    size = (max(1, int(img.width * scale)), max(1, int(img.height * scale)))
    small = rembg_bg.decontaminate_cutout(
        img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), alpha.resize(size, Image.Resampling.LANCZOS)
    )
    colours = small.convert("RGB").resize(img.size, Image.Resampling.BILINEAR)
    colours.paste(img if img.mode == "RGB" else img.convert("RGB"), mask=alpha.point([0] * 255 + [255]))
    colours.putalpha(alpha)
    return colours


def premultiplied_cutout(img: Image.Image, mask: Image.Image) -> Image.Image:
    """Exactly rembg.bg.naive_cutout(img, mask), in one conversion instead of four passes.

    naive_cutout composites onto transparent black, so the colour channels come out multiplied
    by the mask (round(c * a / 255)): premultiplied values in an RGBA image. Pillow's
    RGBA -> RGBa conversion computes that very product with the same rounding.
    """
    if img.mode != "RGB":
        return rembg_bg.naive_cutout(img, mask)
    rgba = img.convert("RGBA")
    rgba.putalpha(mask)
    premultiplied = rgba.convert("RGBa")
    del rgba
    return _labelled_rgba(premultiplied)


def _labelled_rgba(premultiplied: Image.Image) -> Image.Image:
    """The same bytes labelled RGBA: without a copy through Pillow's Arrow interface, which takes
    an image held in one block of memory only. Pillow keeps an image larger than its block size
    (16 MiB: 2048 x 2048 RGBA, so every camera photo) in several blocks, and Arrow refuses those
    ("rows are not contiguous"): their bytes are copied once, into an image that maps them."""
    try:
        return Image.fromarrow(premultiplied, "RGBA", premultiplied.size)
    except ValueError:
        return Image.frombuffer("RGBA", premultiplied.size, premultiplied.tobytes(), "raw", "RGBA", 0, 1)


def _check_int(name: str, value: object, *, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidOptions(f"{name} must be an integer from {low} to {high}, not {value!r}")


def _checked_colour(colour: object) -> tuple[int, int, int, int]:
    if not isinstance(colour, (tuple, list)) or len(colour) != 4:
        raise InvalidOptions(f"bgcolor must be four integers (red, green, blue, alpha), not {colour!r}")
    for channel in colour:
        _check_int("each bgcolor channel", channel, low=0, high=CHANNEL_MAX)
    return tuple(colour)
