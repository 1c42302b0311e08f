"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS) in tests/api/test_schema_fuzz.py.

Every file the API takes is an image: the schema says so in each multipart body's `encoding`
(the image types Darkroom reads), but a JSON Schema cannot say "bytes that decode as an image",
so by default schemathesis sends any bytes as a valid file. Here a valid file is a real image of
each allowed type; invalid ones (negative mode) are still whatever schemathesis makes.

The run authenticates with one API key; revoking or rotating that key would leave every later
request a 401 (and an anonymous 429), so those two operations are pointed at a spare key of the
same user instead: they are still exercised, and the rest of the run still reaches the API. For the
same reason "revoke all" is sent with the key of another vendor's owner (FUZZ_REVOKE_ALL_KEY): the
first call revokes it (200), later ones are that key's 401."""

import os

import schemathesis
from hypothesis import strategies as st

from processing.lib.imaging.sniff import ALLOWED_CONTENT_TYPES
from tests.support.photos import image_bytes

IMAGES = [image_bytes((4, 3), format=format) for format in ("PNG", "JPEG", "WEBP", "GIF")]
# A part that is not bytes (a negative case: a number where the image goes) is sent as its text.
schemathesis.serializer.alias(sorted(ALLOWED_CONTENT_TYPES), "application/octet-stream")
schemathesis.openapi.format("binary", st.sampled_from(IMAGES))


OWN_TOKEN_ID = os.environ.get("FUZZ_OWN_TOKEN_ID")
SPARE_TOKEN_ID = os.environ.get("FUZZ_SPARE_TOKEN_ID")
REVOKE_ALL_KEY = os.environ.get("FUZZ_REVOKE_ALL_KEY")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if OWN_TOKEN_ID and case.method in ("DELETE", "POST") and case.path_parameters:
        if str(case.path_parameters.get("token_id")) == OWN_TOKEN_ID:
            case.path_parameters["token_id"] = SPARE_TOKEN_ID
    if REVOKE_ALL_KEY and case.path.rstrip("/").endswith("/vendor-tokens/revoke-all"):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {REVOKE_ALL_KEY}"}
