"""The signature scheme receivers verify (docs/webhooks.md).

    X-Darkroom-Timestamp: <unix seconds>
    X-Darkroom-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

The timestamp is signed with the body so a captured delivery cannot be replayed later with a
fresh timestamp; receivers should refuse one older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(*, secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Darkroom-Timestamp": str(timestamp),
        "X-Darkroom-Signature": signature(secret=secret, timestamp=timestamp, body=body),
    }


def verify(*, secret: str, timestamp: str, body: bytes, header: str, tolerance_s: int = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=ts, body=body), header)
