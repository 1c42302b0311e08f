"""Fetch an input image by URL, through the safe client, following redirects hop by hop: each
hop is checked and resolved again, so a redirect cannot lead inside either."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import httpx

from processing.lib.errors import ImageTooLarge, InvalidImage, PermanentError, TemporaryError, UrlUnreachable
from processing.lib.http.client import Answer, BodyTooLarge, parse_retry_after, safe_request
from processing.lib.http.guard import AddressPolicy, check_url
from processing.lib.imaging.sniff import ALLOWED_CONTENT_TYPES, sniff_content_type

MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}


def check_image_url(url: str) -> str:
    """Syntax and scheme only (no network: this runs on the request path)."""
    check_url(url, name="image_url")
    return url


def fetch_image(url: str, *, policy: AddressPolicy, max_bytes: int, timeout_s: float) -> bytes:
    """The image bytes at url, following up to MAX_REDIRECTS redirects.

    Refused addresses and bad URLs are InvalidOptions (code url_refused / invalid_url); too many
    bytes ImageTooLarge; not an image InvalidImage; a 4xx PermanentError; timeouts, connection
    failures, 5xx and 429 TemporaryError.
    """
    deadline = time.monotonic() + timeout_s
    current = check_image_url(url)
    for _ in range(MAX_REDIRECTS + 1):
        answer = _get(current, policy=policy, deadline=deadline, max_bytes=max_bytes)
        if answer.status in _REDIRECTS:
            location = answer.headers.get("location")
            if not location:
                raise PermanentError(f"{current} redirected without a Location", code="url_fetch_failed")
            current = check_image_url(urljoin(current, location))
            continue
        _check_status(answer.status, answer.headers, url=current)
        return _checked_image(answer.body)
    raise PermanentError(f"{url} redirected more than {MAX_REDIRECTS} times", code="url_fetch_failed")


def _get(url: str, *, policy: AddressPolicy, deadline: float, max_bytes: int) -> Answer:
    try:
        return safe_request(
            "GET",
            url,
            policy=policy,
            timeout_s=max(0.01, deadline - time.monotonic()),
            max_bytes=max_bytes,
            headers={"Accept": "image/*"},
        )
    except BodyTooLarge as exc:
        raise ImageTooLarge(f"the image at the URL is over the limit of {max_bytes} bytes") from exc
    except httpx.TimeoutException as exc:
        raise TemporaryError(f"fetching {url} timed out", code="url_timeout") from exc
    except httpx.DecodingError as exc:  # an encoding we did not ask for, or broken gzip
        raise PermanentError(f"{url} sent an answer that could not be decoded", code="url_fetch_failed") from exc
    except httpx.TransportError as exc:
        raise UrlUnreachable(f"could not connect to fetch {url}", detail=f"could not fetch {url}: {exc!r}") from exc


def _check_status(status: int, headers: httpx.Headers, *, url: str) -> None:
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise TemporaryError(
            f"{url} answered HTTP {status}", code="url_unavailable", retry_after_s=parse_retry_after(headers)
        )
    raise PermanentError(f"{url} answered HTTP {status}", code="url_fetch_failed")


def _checked_image(body: bytes) -> bytes:
    if not body:
        raise InvalidImage("the URL returned no bytes")
    detected = sniff_content_type(body)
    if detected not in ALLOWED_CONTENT_TYPES:
        raise InvalidImage(
            f"the URL did not return an image Darkroom can read (detected: {detected or 'not an image'})"
        )
    return body
