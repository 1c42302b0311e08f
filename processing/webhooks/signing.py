"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks`
library receivers verify with (docs/webhooks.md):

    webhook-id: <the delivery's id, the same on every retry>
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")> [v1,<...> ...]

The key is the base64 part of a `whsec_` secret. During a secret rotation the header carries one
signature per valid secret, separated by spaces; a receiver accepts any that matches its secret.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(*, secrets_: list[str], msg_id: str, body: bytes, at: datetime | None = None) -> dict[str, str]:
    """The three headers, signed with every secret in `secrets_`."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    text = body.decode()
    signatures = [Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=text) for secret in secrets_]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
