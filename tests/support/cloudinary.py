"""A stand-in for Cloudinary's upload, destroy, Admin API and delivery endpoints on 127.0.0.1, in
memory: the real SDK sends real HTTP to it (CLOUDINARY_URL's `upload_prefix` and `cname`). Used by
the storage's own tests and by every test that needs Darkroom on Cloudinary."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote, unquote

import cloudinary
import cloudinary.utils

from tests.support.loopback import ServedOnLoopback

CLOUD, KEY, SECRET = "demo", "key-1", "secret-1"


def multipart_fields(headers, body: bytes) -> dict:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body
    )
    fields = {}
    for part in message.iter_parts():
        value = part.get_payload(decode=True)
        fields[part.get_param("name", header="content-disposition")] = value if part.get_filename() else value.decode()
    return fields


class FakeCloudinary(BaseHTTPRequestHandler):
    """Upload, destroy, Admin API resource details and delivery, for one cloud, in memory."""

    assets: dict[tuple[str, str], bytes]  # (resource type, public id) -> bytes
    types: dict[tuple[str, str], str]  # (resource type, public id) -> delivery type
    calls: list[dict]

    def log_message(self, *args):
        pass

    def answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        _, version, cloud, rtype, action = self.path.split("/")
        assert (version, cloud) == ("v1_1", CLOUD)
        fields = multipart_fields(self.headers, self.rfile.read(int(self.headers["Content-Length"])))
        signed = {k: v for k, v in fields.items() if k not in ("file", "api_key", "signature")}
        assert fields["api_key"] == KEY
        assert fields["signature"] == cloudinary.utils.api_sign_request(signed, SECRET), "bad signature"
        self.calls.append({"action": action, "resource_type": rtype, **fields})
        key = (rtype, fields.get("public_id", ""))
        if action == "upload":
            if key in self.assets and fields.get("overwrite") == "0":
                result = {"public_id": key[1], "existing": True}
            else:
                self.assets[key] = fields["file"]
                self.types[key] = fields.get("type", "upload")
                result = {"public_id": key[1], "resource_type": rtype, "bytes": len(fields["file"])}
        elif action == "rename":  # same public id, another delivery type
            key = (rtype, fields["from_public_id"])
            if key not in self.assets or self.types[key] != fields.get("type", "upload"):
                return self.answer(404, json.dumps({"error": {"message": "Resource not found"}}).encode())
            self.types[key] = fields.get("to_type", self.types[key])
            result = {"public_id": key[1], "type": self.types[key]}
        elif action == "destroy":
            result = {"result": "ok" if self.assets.pop(key, None) is not None else "not found"}
        else:
            return self.answer(404, b"{}")
        self.answer(200, json.dumps(result).encode())

    def download(self, rtype: str, query: str):
        """A signed download link: /v1_1/<cloud>/<resource type>/download?public_id=…&signature=…"""
        params = dict(parse_qsl(query))
        signed = {k: v for k, v in params.items() if k not in ("api_key", "signature")}
        if params.get("api_key") != KEY or params.get("signature") != cloudinary.utils.api_sign_request(signed, SECRET):
            return self.answer(401, b"")
        if "expires_at" in params and int(params["expires_at"]) <= time.time():
            return self.answer(401, b"")
        public_id = params["public_id"]
        key = (rtype, public_id)
        if key not in self.assets or self.types.get(key) != params.get("type", "upload"):
            return self.answer(404, b"")
        self.answer(200, self.assets[key], "application/octet-stream")

    def do_GET(self):
        path, _, query = self.path.partition("?")
        parts = unquote(path).lstrip("/").split("/")
        if parts[:2] == ["v1_1", CLOUD] and parts[3:4] == ["download"]:
            return self.download(parts[2], query)
        if parts[:2] == ["v1_1", CLOUD]:  # Admin API: /v1_1/<cloud>/resources/<type>/<delivery type>/<id>
            assert self.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
            rtype, public_id = parts[3], "/".join(parts[5:])
            self.calls.append({"action": "resource", "resource_type": rtype, "public_id": public_id})
            if (rtype, public_id) not in self.assets or self.types[(rtype, public_id)] != parts[4]:
                return self.answer(404, json.dumps({"error": {"message": "Resource not found"}}).encode())
            return self.answer(200, json.dumps({"bytes": len(self.assets[(rtype, public_id)])}).encode())
        # Delivery: /<cloud>/<resource type>/<delivery type>/v1/<id>[.<format>]; an authenticated
        # asset needs a signed URL, which Darkroom never makes: anyone asking here is refused.
        assert parts[0] == CLOUD and parts[3] == "v1", self.path
        rtype, delivery, public_id = parts[1], parts[2], "/".join(parts[4:])
        if rtype == "image":
            public_id = public_id.rsplit(".", 1)[0]
        if delivery == "authenticated":
            return self.answer(401, b"")
        data = self.assets.get((rtype, public_id)) if self.types.get((rtype, public_id)) == delivery else None
        self.answer(200, data, "application/octet-stream") if data is not None else self.answer(404, b"")


@contextmanager
def fake_cloudinary() -> Iterator[tuple[type[FakeCloudinary], str, str]]:
    """(the handler class, whose `assets`, `types` and `calls` the test reads; the CLOUDINARY_URL that
    points the SDK at it; its host)."""
    handler = type("Handler", (FakeCloudinary,), {"assets": {}, "types": {}, "calls": []})
    try:
        with ServedOnLoopback(handler) as server:
            host = f"127.0.0.1:{server.port}"
            url = (
                f"cloudinary://{KEY}:{SECRET}@{CLOUD}?upload_prefix={quote('http://' + host, safe='')}"
                f"&cname={host}&secure=false"
            )
            yield handler, url, host
    finally:
        cloudinary.reset_config()
