"""Outbound answers are bounded after decompression: a gzip bomb served by a real loopback
server (10 MB of zeros in ~10 KB) is cut at the cap as it streams, and memory never holds much
more than the cap (issue 22, point 8)."""

import gzip
import tracemalloc
import zlib

import pytest

from processing.jobs.outbound import url_input_policy
from processing.lib.errors import ImageTooLarge, PermanentError
from processing.lib.http.client import CHUNK_BYTES, BodyTooLarge, safe_request
from processing.lib.http.fetch import fetch_image
from processing.lib.http.guard import OPERATOR_CONFIGURED
from tests.support.photos import image_bytes

ZEROS = 10 * 1024 * 1024
BOMB = gzip.compress(b"\0" * ZEROS, compresslevel=9)
CAP = 256 * 1024
PNG = image_bytes()


@pytest.fixture
def bombs(serve):
    deflated = zlib.compress(b"\0" * ZEROS, 9)
    return serve(
        {
            "/bomb.png": lambda r: (200, {"Content-Type": "image/png", "Content-Encoding": "gzip"}, BOMB),
            "/bomb.json": lambda r: (
                200,
                {"Content-Type": "application/json", "Content-Encoding": "deflate"},
                deflated,
            ),
            "/small.png": lambda r: (
                200,
                {"Content-Type": "image/png", "Content-Encoding": "gzip"},
                gzip.compress(PNG),
            ),
            "/brotli.png": lambda r: (200, {"Content-Type": "image/png", "Content-Encoding": "br"}, b"\x1b\x00"),
        }
    )


def peak_bytes_of(call):
    """The most Python memory allocated at once while `call` runs, and what it raised or answered."""
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as exc:  # noqa: BLE001 -- handed back to the test
            outcome = exc
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


def test_the_bomb_is_small_on_the_wire():
    assert len(BOMB) < 20 * 1024 and ZEROS / len(BOMB) > 500


def baseline(bombs) -> int:
    """What one request costs without a body worth the name (the client, its TLS context); the
    first call warms up lazy imports."""
    safe_request("GET", bombs.url("/none"), policy=OPERATOR_CONFIGURED, timeout_s=5, max_bytes=CAP)
    peak, answer = peak_bytes_of(
        lambda: safe_request("GET", bombs.url("/none"), policy=OPERATOR_CONFIGURED, timeout_s=5, max_bytes=CAP)
    )
    assert answer.status == 404
    return peak


def test_a_gzip_bomb_is_refused_at_the_cap_without_expanding(bombs):
    base = baseline(bombs)
    peak, outcome = peak_bytes_of(
        lambda: safe_request("GET", bombs.url("/bomb.png"), policy=OPERATOR_CONFIGURED, timeout_s=5, max_bytes=CAP)
    )
    assert isinstance(outcome, BodyTooLarge)
    assert peak - base < CAP + 4 * CHUNK_BYTES, f"{peak - base} bytes held for a cap of {CAP}"


def test_a_deflate_bomb_cut_with_truncate_keeps_exactly_the_cap(bombs):
    base = baseline(bombs)
    peak, answer = peak_bytes_of(
        lambda: safe_request(
            "GET", bombs.url("/bomb.json"), policy=OPERATOR_CONFIGURED, timeout_s=5, max_bytes=CAP, truncate=True
        )
    )
    assert answer.truncated and answer.body == b"\0" * CAP
    # The chunks and the joined body: twice the cap, plus a step.
    assert peak - base < 2 * CAP + 4 * CHUNK_BYTES, f"{peak - base} bytes held for a cap of {CAP}"


def test_an_input_url_serving_a_bomb_fails_as_too_large(bombs):
    with pytest.raises(ImageTooLarge):
        fetch_image(bombs.url("/bomb.png"), policy=url_input_policy(), max_bytes=CAP, timeout_s=5)


def test_a_gzipped_image_still_arrives_whole(bombs):
    assert fetch_image(bombs.url("/small.png"), policy=url_input_policy(), max_bytes=CAP, timeout_s=5) == PNG
    assert "gzip" in bombs.requests[-1].headers["Accept-Encoding"]


def test_an_encoding_not_asked_for_is_refused(bombs):
    with pytest.raises(PermanentError) as refused:
        fetch_image(bombs.url("/brotli.png"), policy=url_input_policy(), max_bytes=CAP, timeout_s=5)
    assert refused.value.code == "url_fetch_failed"
    assert "br" not in bombs.requests[-1].headers["Accept-Encoding"]
