"""The Cloudinary storage against a stand-in for Cloudinary's APIs on 127.0.0.1: the real SDK
sends real HTTP, pointed there by the CLOUDINARY_URL options `upload_prefix` (upload and Admin
APIs) and `cname` (delivery). The stand-in checks what the SDK sends (the resource type in the
path, the public id, the signature) and the tests check what the storage returns."""

from __future__ import annotations

import base64
import json
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote, unquote

import cloudinary
import cloudinary.utils
import pytest
from django.core.files.base import ContentFile

from processing.lib.cloudinary_storage import CloudinaryStorage, parse_cloudinary_url, resource_type
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
        key = (rtype, fields["public_id"])
        if action == "upload":
            if key in self.assets and fields.get("overwrite") == "0":
                result = {"public_id": key[1], "existing": True}
            else:
                self.assets[key] = fields["file"]
                result = {"public_id": key[1], "resource_type": rtype, "bytes": len(fields["file"])}
        elif action == "destroy":
            result = {"result": "ok" if self.assets.pop(key, None) is not None else "not found"}
        else:
            return self.answer(404, b"{}")
        self.answer(200, json.dumps(result).encode())

    def do_GET(self):
        parts = unquote(self.path).lstrip("/").split("/")
        if parts[:2] == ["v1_1", CLOUD]:  # Admin API: /v1_1/<cloud>/resources/<type>/upload/<id>
            assert self.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
            rtype, public_id = parts[3], "/".join(parts[5:])
            self.calls.append({"action": "resource", "resource_type": rtype, "public_id": public_id})
            if (rtype, public_id) not in self.assets:
                return self.answer(404, json.dumps({"error": {"message": "Resource not found"}}).encode())
            return self.answer(200, json.dumps({"bytes": len(self.assets[(rtype, public_id)])}).encode())
        # Delivery: /<cloud>/<type>/upload/v1/<id>[.<format>]
        assert parts[0] == CLOUD and parts[2:4] == ["upload", "v1"], self.path
        rtype, public_id = parts[1], "/".join(parts[4:])
        if rtype == "image":
            public_id = public_id.rsplit(".", 1)[0]
        data = self.assets.get((rtype, public_id))
        self.answer(200, data, "application/octet-stream") if data is not None else self.answer(404, b"")


@pytest.fixture
def cloud():
    handler = type("Handler", (FakeCloudinary,), {"assets": {}, "calls": []})
    with ServedOnLoopback(handler) as server:
        host = f"127.0.0.1:{server.port}"
        url = f"cloudinary://{KEY}:{SECRET}@{CLOUD}?upload_prefix={quote('http://' + host, safe='')}&cname={host}&secure=false"
        yield handler, CloudinaryStorage(cloudinary_url=url), host
    cloudinary.reset_config()


def test_the_url_setting_is_parsed_as_the_sdk_reads_it():
    assert parse_cloudinary_url("cloudinary://k%2B1:s%2F2@demo") == {
        "cloud_name": "demo",
        "api_key": "k+1",
        "api_secret": "s/2",
        "secure": True,
    }
    assert parse_cloudinary_url("cloudinary://k:s@demo/cdn.example.com?secure=false")["secure_distribution"] == (
        "cdn.example.com"
    )
    assert [resource_type(n) for n in ["a/b.png", "a/b.JPG", "a/b.webp", "a/b.json", "a/b"]] == [
        "image",
        "image",
        "image",
        "raw",
        "raw",
    ]


def test_an_image_is_uploaded_as_an_image_under_its_name_without_extension(cloud):
    handler, storage, host = cloud
    name = storage.save("results/3/7f0c/ab12.png", ContentFile(b"\x89PNG fake", name="ab12.png"))

    assert name == "results/3/7f0c/ab12.png"
    upload = handler.calls[-1]
    assert (upload["action"], upload["resource_type"], upload["public_id"]) == (
        "upload",
        "image",
        "results/3/7f0c/ab12",
    )
    assert upload["file"] == b"\x89PNG fake" and upload["overwrite"] == "0"
    assert storage.url(name) == f"http://{host}/{CLOUD}/image/upload/v1/results/3/7f0c/ab12.png"
    with storage.open(name) as handle:
        assert handle.read() == b"\x89PNG fake"
    assert storage.exists(name) and storage.size(name) == len(b"\x89PNG fake")


def test_a_json_result_is_uploaded_as_raw_with_its_extension(cloud):
    handler, storage, host = cloud
    name = storage.save("results/3/7f0c/cd34.json", ContentFile(b'{"labels":["shoe"]}'))

    upload = handler.calls[-1]
    assert (upload["resource_type"], upload["public_id"]) == ("raw", "results/3/7f0c/cd34.json")
    assert storage.url(name) == f"http://{host}/{CLOUD}/raw/upload/v1/results/3/7f0c/cd34.json"
    with storage.open(name) as handle:
        assert json.loads(handle.read()) == {"labels": ["shoe"]}
    assert storage.size(name) == len(b'{"labels":["shoe"]}')
    assert handler.calls[-1] == {"action": "resource", "resource_type": "raw", "public_id": "results/3/7f0c/cd34.json"}


def test_delete_and_missing_files(cloud):
    handler, storage, _ = cloud
    name = storage.save("originals/3/9e/photo.jpg", ContentFile(b"jpeg"))
    storage.delete(name)

    destroy = handler.calls[-1]
    assert (destroy["action"], destroy["resource_type"], destroy["public_id"]) == (
        "destroy",
        "image",
        "originals/3/9e/photo",
    )
    assert destroy["invalidate"] == "1"
    assert not storage.exists(name)
    storage.delete(name)  # already gone: no error
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.size(name)


def test_a_taken_name_is_not_overwritten(cloud):
    handler, storage, _ = cloud
    first = storage.save("originals/3/9e/photo.png", ContentFile(b"one"))
    second = storage.save("originals/3/9e/photo.png", ContentFile(b"two"))

    assert first == "originals/3/9e/photo.png"
    assert second != first and second.startswith("originals/3/9e/photo_") and second.endswith(".png")
    with storage.open(first) as a, storage.open(second) as b:
        assert (a.read(), b.read()) == (b"one", b"two")
