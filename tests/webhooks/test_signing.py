"""Deliveries are signed the Standard Webhooks way: the official verifiers (Python and JavaScript
`standardwebhooks`) accept them, with every valid secret during a rotation."""

import base64
import hashlib
import hmac
import importlib
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from processing.webhooks import services
from processing.webhooks.models import WebhookEndpoint
from processing.webhooks.signing import new_secret, signed_headers

BODY = json.dumps({"type": "job.succeeded", "timestamp": "2026-01-01T00:00:00Z", "data": {"id": "j"}}).encode()

VERIFY_JS = """
const { Webhook } = require("standardwebhooks");
const [secret, headers, body] = process.argv.slice(2);
try {
  new Webhook(secret).verify(body, JSON.parse(headers));
  console.log("verified");
} catch (err) {
  console.log("refused: " + err.message);
  process.exit(1);
}
"""


def test_a_new_secret_is_whsec_and_base64_of_32_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_the_python_verifier_accepts_each_secret_and_refuses_a_changed_body():
    old, new = new_secret(), new_secret()
    headers = signed_headers(secrets_=[new, old], msg_id="msg_1", body=BODY)
    assert Webhook(old).verify(BODY, headers)["type"] == "job.succeeded"
    assert Webhook(new).verify(BODY, headers)["type"] == "job.succeeded"
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(new).verify(BODY.replace(b"j", b"k"), headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.mark.django_db
def test_a_rotation_keeps_the_old_secret_signing_for_the_grace_period(vendor, settings):
    settings.WEBHOOK_SECRET_GRACE_H = 24
    endpoint = WebhookEndpoint.objects.create(vendor=vendor, url="https://hooks.example/in", secret=new_secret())
    old = endpoint.secret
    services.endpoint_rotate_secret(endpoint=endpoint)
    endpoint.refresh_from_db()
    now = datetime.now(UTC)
    assert endpoint.signing_secrets(now=now) == [endpoint.secret, old]
    assert endpoint.signing_secrets(now=now + timedelta(hours=25)) == [endpoint.secret]


@pytest.fixture(scope="session")
def js_verifier(tmp_path_factory):
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run the JavaScript standardwebhooks verifier")
    folder = tmp_path_factory.mktemp("standardwebhooks-js")
    installed = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "standardwebhooks@1"],
        cwd=folder,
        capture_output=True,
        timeout=180,
    )
    if installed.returncode != 0:
        pytest.skip(f"npm could not install standardwebhooks: {installed.stderr.decode()[-300:]}")
    (folder / "verify.js").write_text(VERIFY_JS)
    return folder


def js_verifies(folder, secret: str, headers: dict, body: bytes) -> bool:
    done = subprocess.run(
        ["node", "verify.js", secret, json.dumps(headers), body.decode()], cwd=folder, capture_output=True, timeout=30
    )
    return done.returncode == 0


def test_the_javascript_verifier_accepts_each_secret_of_a_rotation(js_verifier):
    old, new = new_secret(), new_secret()
    headers = signed_headers(secrets_=[new, old], msg_id="msg_2", body=BODY)
    assert js_verifies(js_verifier, old, headers, BODY)
    assert js_verifies(js_verifier, new, headers, BODY)
    assert not js_verifies(js_verifier, new_secret(), headers, BODY)
    assert not js_verifies(js_verifier, new, headers, BODY.replace(b"j", b"k"))


@pytest.mark.django_db
def test_existing_secrets_are_migrated_to_whsec_base64_of_the_same_key_bytes(vendor):
    migration = importlib.import_module("processing.webhooks.migrations.0002_standard_webhooks")
    legacy = "whsec_" + "x" * 43  # the old form: a random string, its bytes the HMAC key
    endpoint = WebhookEndpoint.objects.create(vendor=vendor, url="https://hooks.example/in", secret=legacy)
    migration.secrets_to_base64(apps, None)
    endpoint.refresh_from_db()

    assert endpoint.secret == "whsec_" + base64.b64encode(legacy.encode()).decode()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    signature = Webhook(endpoint.secret).sign(msg_id="m", timestamp=at, data="{}").split(",")[1]
    same_key = hmac.new(legacy.encode(), f"m.{int(at.timestamp())}.{{}}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(signature) == same_key, "receivers keep the key they had"
    migration.secrets_from_base64(apps, None)
    endpoint.refresh_from_db()
    assert endpoint.secret == legacy


def docs_shell_snippet() -> str:
    text = (settings.BASE_DIR / "docs" / "webhooks.md").read_text()
    return text.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_openssl_snippet_of_the_docs_verifies_each_secret(tmp_path):
    if not (shutil.which("openssl") and shutil.which("bash")):
        pytest.skip("bash and openssl are needed to run the documented shell verification")
    old, new = new_secret(), new_secret()
    headers = signed_headers(secrets_=[new, old], msg_id="msg_3", body=BODY)
    (tmp_path / "body.json").write_bytes(BODY)

    def verifies(secret: str) -> bool:
        env = {
            "PATH": "/usr/bin:/bin",
            "SECRET": secret,
            "WEBHOOK_ID": headers["webhook-id"],
            "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
            "WEBHOOK_SIGNATURE": headers["webhook-signature"],
        }
        done = subprocess.run(["bash", "-c", docs_shell_snippet()], cwd=tmp_path, env=env, capture_output=True)
        return done.stdout == b"verified\n"

    assert verifies(old) and verifies(new)
    assert not verifies(new_secret())
