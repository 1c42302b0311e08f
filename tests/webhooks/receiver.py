"""A real HTTP server on loopback that records what it receives and answers programmed statuses.
Given secrets, it verifies each delivery as a receiver would, with the `standardwebhooks` library's
own `Webhook(secret).verify(body, headers)`, once per secret, and records which ones passed."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict[str, bool]  # secret -> did Webhook(secret).verify accept the delivery


def verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class Receiver:
    def __init__(self, statuses: list[int] | None = None, secrets: list[str] | None = None):
        self.statuses = list(statuses or [])  # answered in turn; 200 once they run out
        self.secrets = list(secrets or [])  # may be set once the endpoint (and its secret) exists
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = dict(self.headers.items())
                verified = {secret: verifies(secret, body, headers) for secret in receiver.secrets}
                receiver.received.append(Received(self.path, headers, body, verified))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b"ok" if status == 200 else b"receiver is down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/darkroom"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"received {len(self.received)} of {count} deliveries"
        return self.received
