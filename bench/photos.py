"""Distinct real photos for the benchmarks: scikit-image's colour samples, mirrored, cropped and
tinted, scaled so the longest side is `side` px, as JPEG bytes. Deterministic."""

import io

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from skimage import data as samples

SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")


def photos(count: int = 40, *, side: int = 1024, quality: int = 92) -> list[bytes]:
    rng = np.random.default_rng(0)
    made = []
    while len(made) < count:
        for name in SOURCES:
            if len(made) == count:
                break
            img = _variant(Image.fromarray(getattr(samples, name)()).convert("RGB"), variant=len(made), rng=rng)
            scale = side / max(img.size)
            img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            img.save(buffer, format="JPEG", quality=quality)
            made.append(buffer.getvalue())
    return made


def _variant(img: Image.Image, *, variant: int, rng: np.random.Generator) -> Image.Image:
    kind = variant // len(SOURCES) % 6
    if kind == 1:
        return ImageOps.mirror(img)
    if kind in (2, 4):
        fraction = 0.8 if kind == 2 else 0.7
        width, height = int(img.width * fraction), int(img.height * fraction)
        x, y = rng.integers(0, img.width - width + 1), rng.integers(0, img.height - height + 1)
        img = img.crop((x, y, x + width, y + height))
        return ImageEnhance.Color(ImageOps.mirror(img)).enhance(1.3) if kind == 4 else img
    if kind in (3, 5):
        if kind == 5:
            img = ImageOps.mirror(img.crop((0, 0, img.width * 9 // 10, img.height)))
        shift = rng.integers(-30, 31, 3)
        return Image.fromarray(np.clip(np.asarray(img).astype(np.int16) + shift, 0, 255).astype(np.uint8))
    return img
