"""Production serves static files under content-hashed names: `collectstatic` with the production
settings (as the Dockerfile runs it) writes them and the manifest, and the admin, DRF and portal
pages name the hashed files. Runs in a fresh process, as the image build does."""

import json
import os
import subprocess
import sys

from tests.support.paths import ROOT

SCRIPT = """
import json, re, sys
import django
django.setup()
from django.conf import settings
settings.STATIC_ROOT = sys.argv[1]
from django.core.management import call_command
call_command("collectstatic", "--noinput", verbosity=0)
from django.test import Client
client = Client()
pages = {}
for path in ["/admin/login/", "/accounts/login/", "/api/v1/jobs/"]:
    response = client.get(path, secure=True, HTTP_ACCEPT="text/html")  # /api/v1/jobs/: DRF's browsable API
    pages[path] = [response.status_code, sorted(set(re.findall(r"/static/[^\\"']+", response.content.decode())))]
print(json.dumps(pages))
"""


def test_collectstatic_with_production_settings_writes_hashed_files(tmp_path):
    static_root = tmp_path / "static"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STORAGE_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="collectstatic",
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(static_root)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    pages = json.loads(result.stdout.strip().splitlines()[-1])

    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    for name in ["admin/css/base.css", "admin/js/core.js", "rest_framework/css/bootstrap.min.css"]:
        hashed = manifest[name]
        assert hashed != name and (static_root / hashed).is_file() and (static_root / f"{hashed}.gz").is_file()

    for path, (status, static_urls) in pages.items():
        assert status in (200, 401, 403), f"{path} answered {status}"
        assert static_urls, f"{path} names no static file"
        for url in static_urls:
            name = url.removeprefix("/static/")
            assert name in manifest.values(), f"{path} names {url}, not a hashed file"
