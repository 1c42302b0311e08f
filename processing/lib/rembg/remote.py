"""Background removal on `rembg s` servers (REMBG_URLS), taken in turn.

A server that fails (cannot connect, times out, answers 5xx) is skipped for `retry_s`; after
that a cheap health check (GET /api) must pass before it gets a job again. The job itself moves
on to the next server, so one server down costs a job nothing but the failed attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache

import httpx

from processing.lib.errors import InvalidImage, InvalidOptions, ProcessingError, RembgFailed, RembgUnavailable
from processing.lib.http.client import safe_request
from processing.lib.http.guard import OPERATOR_CONFIGURED

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


class RembgServers:
    """Round-robin over server URLs with per-process health state (thread-safe)."""

    def __init__(self, urls: list[str], *, retry_s: float = 30.0):
        if not urls:
            raise ValueError("REMBG_URLS is empty: list at least one `rembg s` server")
        self.urls = [url.rstrip("/") for url in urls]
        self.retry_s = retry_s
        self._next = 0
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def rotation(self) -> list[str]:
        """Every server once, starting with the next in turn; servers resting after a failure last."""
        with self._lock:
            start = self._next
            self._next = (self._next + 1) % len(self.urls)
        ordered = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        return [u for u in ordered if self._down_until.get(u, 0) <= now]

    def is_suspect(self, url: str) -> bool:
        """It failed before and its rest is over: health-check it before sending a job."""
        return url in self._down_until

    def mark_down(self, url: str, reason: str) -> None:
        with self._lock:
            self._down_until[url] = time.monotonic() + self.retry_s
        logger.warning("rembg server %s skipped for %.0f s: %s", url, self.retry_s, reason)

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down_until.pop(url, None)

    def next_retry_s(self) -> float:
        now = time.monotonic()
        waits = [until - now for until in self._down_until.values()]
        return max(0.5, min(waits, default=self.retry_s))


@cache
def servers_for(urls: tuple[str, ...], retry_s: float) -> RembgServers:
    return RembgServers(list(urls), retry_s=retry_s)


def remove_remote(
    data: bytes, *, servers: RembgServers, form: dict[str, str], query: dict[str, str], timeout_s: float, max_bytes: int
) -> bytes:
    """PNG bytes of the cut-out from the first server that answers."""
    for url in servers.rotation():
        if servers.is_suspect(url) and not _healthy(url):
            servers.mark_down(url, "health check failed")
            continue
        try:
            response = safe_request(
                "POST",
                f"{url}/api/remove",
                policy=OPERATOR_CONFIGURED,
                timeout_s=timeout_s,
                max_bytes=max_bytes,
                params=query,
                files={"file": ("image", data)},
                data=form,
            )
        except (httpx.HTTPError, ProcessingError) as exc:  # unreachable, or its name does not resolve now
            servers.mark_down(url, f"{type(exc).__name__}: {exc}")
            continue
        if response.status >= 500:
            servers.mark_down(url, f"HTTP {response.status}")
            continue
        servers.mark_up(url)
        if response.status == 422:
            raise InvalidOptions(
                "the background remover refused the parameters",
                detail=f"the rembg server {url} refused the parameters: {response.text[:300]}",
            )
        if response.status == 400:
            raise InvalidImage(
                "the background remover could not read the image",
                detail=f"the rembg server {url} could not read the image: {response.text[:300]}",
            )
        if response.status != 200:
            raise RembgFailed(
                "background removal failed",
                detail=f"the rembg server {url} answered HTTP {response.status}",
            )
        return response.body
    raise RembgUnavailable(
        "no rembg server answered (all of REMBG_URLS are down)",
        retry_after_s=servers.next_retry_s(),
    )


def _healthy(url: str) -> bool:
    try:
        answer = safe_request(
            "GET", f"{url}/api", policy=OPERATOR_CONFIGURED, timeout_s=PROBE_TIMEOUT_S, max_bytes=4096, truncate=True
        )
        return answer.status == 200
    except (httpx.HTTPError, ProcessingError):
        return False
