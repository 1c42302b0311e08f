"""Storage is chosen by settings: local files by default, S3 or Cloudinary by STORAGE_BACKEND.
Each case starts a fresh process, as a deployment would, and asks for the URL Darkroom hands out
for a result (processing/lib/media.py; no network is needed to build one): private in every
case, a signed and expiring link by default."""

import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.paths import ROOT

PROBE = (
    "import django; django.setup();"
    "from django.core.files.storage import default_storage as s;"
    "from processing.lib.media import media_url;"
    "url = media_url('results/1/out.png');"
    "print(type(s._wrapped).__module__, url)"
)


def storage_in_a_process(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDINARY", "STORAGE_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_local_files_by_default():
    module, url = storage_in_a_process().split()
    assert module == "django.core.files.storage.filesystem"
    assert re.fullmatch(r"/media/results/1/out\.png\?expires=\d+&signature=[\w-]{20,}", url), url


def test_proxied_delivery_hands_out_the_checked_path():
    _, url = storage_in_a_process(MEDIA_DELIVERY="proxied").split()
    assert url == "/media/results/1/out.png"


def test_an_unknown_delivery_is_refused_at_start():
    with pytest.raises(AssertionError, match="MEDIA_DELIVERY must be signed or proxied"):
        storage_in_a_process(MEDIA_DELIVERY="public")


def test_s3_by_setting():
    module, url = storage_in_a_process(
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="darkroom-results",
        AWS_S3_REGION_NAME="eu-west-1",
        AWS_ACCESS_KEY_ID="key",
        AWS_SECRET_ACCESS_KEY="secret",
    ).split()
    assert module == "storages.backends.s3"
    assert url.startswith("https://darkroom-results.s3") and "results/1/out.png?" in url  # signed
    assert "X-Amz-Expires=3600" in url and "X-Amz-Signature=" in url


def test_cloudinary_by_setting():
    module, url = storage_in_a_process(STORAGE_BACKEND="cloudinary", CLOUDINARY_URL="cloudinary://k:s@demo").split()
    assert module == "processing.lib.cloudinary_storage"
    link = urlsplit(url)
    query = dict(parse_qsl(link.query))
    assert (link.netloc, link.path) == ("api.cloudinary.com", "/v1_1/demo/image/download")
    assert query["type"] == "authenticated" and query["public_id"] == "results/1/out" and query["format"] == "png"
    assert int(query["expires_at"]) > time.time() + 3000 and query["signature"]


def test_cloudinary_without_its_url_is_refused_at_start():
    with pytest.raises(AssertionError, match="STORAGE_BACKEND=cloudinary needs CLOUDINARY_URL"):
        storage_in_a_process(STORAGE_BACKEND="cloudinary")


def test_an_unknown_backend_is_refused_at_start():
    with pytest.raises(AssertionError, match="STORAGE_BACKEND must be one of"):
        storage_in_a_process(STORAGE_BACKEND="ftp")
