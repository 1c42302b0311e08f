"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS) in tests/api/test_schema_fuzz.py.

Every file the API takes is an image: the schema says so in each multipart body's `encoding`
(the image types Darkroom reads), but a JSON Schema cannot say "bytes that decode as an image",
so by default schemathesis sends any bytes as a valid file. Here a valid file is a real image of
each allowed type; invalid ones (negative mode) are still whatever schemathesis makes."""

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image


def image_bytes(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format=format)
    return buffer.getvalue()


schemathesis.openapi.format("binary", st.sampled_from([image_bytes(f) for f in ("PNG", "JPEG", "WEBP", "GIF")]))
