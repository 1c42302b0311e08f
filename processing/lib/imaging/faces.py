"""Frontal face detection (OpenCV Haar cascade) and face-centred crops."""

import math
import os
import threading

import cv2
import numpy as np
from PIL import Image

from processing.lib.errors import InvalidOptions, NoFaceFound
from processing.lib.imaging.bounds import ASPECT_MAX, ASPECT_MIN, FACE_MARGIN_MAX
from processing.lib.imaging.encode import encode, normalize_format
from processing.lib.imaging.inspect import load_image
from processing.lib.imaging.output import ImageOutput

Box = tuple[int, int, int, int]  # x, y, width, height

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# Detection runs on a copy this size: big photos cost the same as small ones, and faces in
# portraits are still far above the cascade's 24 px window.
DETECTION_LONGEST_SIDE = 512
# Measured on scikit-image's astronaut/chelsea/coffee (also as JPEG and upscaled 2x/4x):
# minNeighbors=5 finds astronaut's one face and nothing on the cat or the coffee cup;
# 3 already reports a false face on chelsea. No histogram equalisation: it added one too.
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_FACE_SIDE = 24

_cascade: cv2.CascadeClassifier | None = None
# Guards loading, and detection too: one CascadeClassifier must not run detectMultiScale in
# two threads at once.
_cascade_lock = threading.Lock()


def detect_faces(img: Image.Image) -> list[Box]:
    """Faces as (x, y, w, h) in img's own coordinates, largest first."""
    scale = min(1.0, DETECTION_LONGEST_SIDE / max(img.size))
    grey = np.asarray(img.convert("L"))
    if scale < 1.0:
        small_size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        grey = cv2.resize(grey, small_size, interpolation=cv2.INTER_AREA)
    if min(grey.shape) < MIN_FACE_SIDE:
        return []

    with _cascade_lock:
        found = _load_cascade().detectMultiScale(
            grey, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, minSize=(MIN_FACE_SIDE, MIN_FACE_SIDE)
        )

    boxes = [_to_original((int(x), int(y), int(w), int(h)), scale=scale, image_size=img.size) for x, y, w, h in found]
    return sorted(boxes, key=lambda box: box[2] * box[3], reverse=True)


def face_crop(
    data: bytes,
    *,
    margin: float = 0.4,
    aspect: float | None = None,
    which: str = "largest",
    square_pad: bool = False,
    format: str = "PNG",
    quality: int = 90,
    max_bytes: int,
    max_pixels: int,
) -> ImageOutput:
    """Crop around the largest face (or, with which="all", around all of them).

    margin is added on each side as a fraction of the (largest) face's size; aspect (w/h)
    grows the box to that shape; the box never leaves the image. square_pad pads the result
    to a square: transparent for PNG/WebP, white for JPEG.
    """
    format = normalize_format(format, quality=quality)
    _check_crop_params(margin=margin, aspect=aspect, which=which)

    img = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    faces = detect_faces(img)
    if not faces:
        raise NoFaceFound("no face was found in the image")

    box = _union(faces) if which == "all" else faces[0]
    left, top, right, bottom = _crop_box(box, face=faces[0], margin=margin, aspect=aspect, image_size=img.size)
    cropped = img.crop((left, top, right, bottom))
    if square_pad:
        cropped = _pad_to_square(cropped, transparent=format != "JPEG")
    return encode(cropped, format=format, quality=quality)


def _load_cascade() -> cv2.CascadeClassifier:
    global _cascade
    if _cascade is None:
        path = os.path.join(cv2.data.haarcascades, CASCADE_FILE)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV could not load its face cascade from {path}")
        _cascade = cascade
    return _cascade


def _to_original(box: Box, *, scale: float, image_size: tuple[int, int]) -> Box:
    x, y, w, h = (round(v / scale) for v in box)
    width, height = image_size
    x, y = min(max(x, 0), width - 1), min(max(y, 0), height - 1)
    return x, y, min(w, width - x), min(h, height - y)


def _union(boxes: list[Box]) -> Box:
    left = min(x for x, _, _, _ in boxes)
    top = min(y for _, y, _, _ in boxes)
    right = max(x + w for x, _, w, _ in boxes)
    bottom = max(y + h for _, y, _, h in boxes)
    return left, top, right - left, bottom - top


def _crop_box(
    box: Box, *, face: Box, margin: float, aspect: float | None, image_size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the crop, inside the image."""
    x, y, w, h = box
    image_width, image_height = image_size
    centre_x, centre_y = x + w / 2, y + h / 2
    crop_width = w + 2 * margin * face[2]
    crop_height = h + 2 * margin * face[3]

    if aspect is None:
        left, right = max(0.0, centre_x - crop_width / 2), min(image_width, centre_x + crop_width / 2)
        top, bottom = max(0.0, centre_y - crop_height / 2), min(image_height, centre_y + crop_height / 2)
    else:
        # Grow the short side to the aspect, then shrink both if the image is too small for it,
        # then slide the box (rather than cut it) back inside the image.
        if crop_width / crop_height < aspect:
            crop_width = crop_height * aspect
        else:
            crop_height = crop_width / aspect
        shrink = min(1.0, image_width / crop_width, image_height / crop_height)
        crop_width, crop_height = crop_width * shrink, crop_height * shrink
        left = min(max(0.0, centre_x - crop_width / 2), image_width - crop_width)
        top = min(max(0.0, centre_y - crop_height / 2), image_height - crop_height)
        right, bottom = left + crop_width, top + crop_height

    left, top = math.floor(left), math.floor(top)
    right, bottom = max(left + 1, math.ceil(right)), max(top + 1, math.ceil(bottom))
    return left, top, min(right, image_width), min(bottom, image_height)


def _pad_to_square(img: Image.Image, *, transparent: bool) -> Image.Image:
    side = max(img.size)
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0)) if transparent else Image.new("RGB", (side, side), "white")
    source = img.convert("RGBA")
    canvas.paste(source, ((side - img.width) // 2, (side - img.height) // 2), mask=source.getchannel("A"))
    canvas.info = dict(img.info)
    return canvas


def _check_crop_params(*, margin: float, aspect: float | None, which: str) -> None:
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin <= FACE_MARGIN_MAX:
        raise InvalidOptions(f"margin must be a number from 0 to {FACE_MARGIN_MAX:g}, not {margin!r}")
    if aspect is not None and (
        isinstance(aspect, bool) or not isinstance(aspect, (int, float)) or not ASPECT_MIN <= aspect <= ASPECT_MAX
    ):
        raise InvalidOptions(f"aspect (width / height) must be from {ASPECT_MIN:g} to {ASPECT_MAX:g}, not {aspect!r}")
    if which not in ("largest", "all"):
        raise InvalidOptions(f"which must be 'largest' or 'all', not {which!r}")
