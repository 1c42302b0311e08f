"""Production settings are safe by default: HTTPS only (redirect and HSTS), X-Forwarded-Proto
believed only when the operator says a proxy sets it, placeholder secrets and an empty
METRICS_TOKEN refused by `check --deploy`, a CSP on every page, Swagger UI without a CDN, and
/metrics closed without its token. Production settings load in a fresh process, as in the image."""

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

from processing.ops import checks
from tests.support.paths import ROOT

GOOD = {
    "DJANGO_SECRET_KEY": "k3y-" + "x" * 60,
    "DATABASE_URL": "mysql://darkroom:Vq8fL2r9sTzW@mysql:3306/darkroom",
    "METRICS_TOKEN": "scrape-9d1c0a7e44",
    "AI_ENDPOINTS": "{}",
}
SETTINGS_SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "METRICS_ALLOW_LOOPBACK",
         "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]
print(json.dumps({name: getattr(settings, name, None) for name in names}))
"""


def production(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "METRICS_", "STORAGE_"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_ALLOWED_HOSTS="darkroom.example.com")
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def production_settings(**env: str) -> dict:
    result = production(["-c", SETTINGS_SCRIPT], **{**GOOD, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_is_https_only_and_trusts_no_proxy_header_unless_told():
    values = production_settings()
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 180 * 24 * 3600
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["METRICS_ALLOW_LOOPBACK"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]

    behind_a_proxy = production_settings(DJANGO_TRUST_X_FORWARDED_PROTO="true")
    assert behind_a_proxy["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_check_deploy_refuses_the_placeholders_of_env_example():
    refused = production(
        ["manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        DJANGO_SECRET_KEY="change-me",
        DATABASE_URL="mysql://darkroom:change-me@mysql:3306/darkroom",
        METRICS_TOKEN="",
        AI_ENDPOINTS='{"labels": {"url": "https://ai.example.com/l", "headers": {"Authorization": "Bearer change-me"}},'
        ' "claude": {"provider": "anthropic", "api_key": "change-me"}}',
    )
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY is empty or a placeholder" in refused.stderr
    assert "database 'default'" in refused.stderr
    assert "AI endpoint 'labels'" in refused.stderr
    assert "api_key of AI endpoint 'claude'" in refused.stderr
    assert "darkroom.E002" in refused.stderr  # no METRICS_TOKEN

    accepted = production(["manage.py", "check", "--deploy", "--fail-level", "ERROR"], **GOOD)
    assert accepted.returncode == 0, accepted.stderr
    assert "darkroom.E" not in accepted.stderr


@pytest.mark.parametrize(
    "value", ["", "change-me", "change-me-too", "secret", "darkroom", "django-insecure-abc", "CHANGEME"]
)
def test_placeholders_are_recognised(value):
    assert checks.is_placeholder(value)


def test_a_real_secret_is_not_a_placeholder():
    assert not checks.is_placeholder("Vq8fL2r9sTzW-2f0c")


@pytest.mark.django_db
def test_metrics_without_a_token_refuse_loopback_unless_allowed(settings, clean_redis):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_LOOPBACK = False
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 401
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 401
    settings.METRICS_ALLOW_LOOPBACK = True  # local settings
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/docs/"])
def test_every_page_has_a_content_security_policy_without_inline_scripts(path):
    response = Client().get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_swagger_ui_is_served_by_the_app_not_a_cdn():
    page = Client().get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "<script>" not in page  # its start-up script is a file of its own (the CSP allows no inline one)
