"""A real HTTP server on loopback that records what it receives and answers programmed statuses.
Given secrets, it verifies each delivery as a receiver would, with the `standardwebhooks` library's
own `Webhook(secret).verify(body, headers)`, once per secret, and records which ones passed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.loopback import LoopbackServer, Request
from tests.support.waiting import wait_for

PATH = "/hooks/darkroom"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict[str, bool]  # secret -> did Webhook(secret).verify accept the delivery
    at: float = field(default_factory=time.time)  # when it arrived (epoch seconds)


def verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class Receiver:
    def __init__(
        self, statuses: list[int] | None = None, secrets: list[str] | None = None, paths: list[str] | None = None
    ):
        self.statuses = list(statuses or [])  # answered in turn; 200 once they run out
        self.sleep_s = 0.0  # how long each answer takes
        self.secrets = list(secrets or [])  # may be set once the endpoint (and its secret) exists
        self.received: list[Received] = []
        self.server = LoopbackServer({path: self._answer for path in paths or [PATH]})
        self.url = self.server.url(PATH)

    def _answer(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        time.sleep(self.sleep_s)
        headers = dict(request.headers.items())
        verified = {secret: verifies(secret, request.body, headers) for secret in self.secrets}
        self.received.append(Received(request.path, headers, request.body, verified))
        status = self.statuses.pop(0) if self.statuses else 200
        return status, {}, b"ok" if status == 200 else b"receiver is down"

    def __enter__(self) -> Receiver:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        wait_for(lambda: len(self.received) >= count, timeout=timeout, interval=0.05, what=f"{count} deliveries")
        return self.received
