"""schemathesis drives every operation of /api/schema/ (valid and invalid input) against a live
server with every check: no answer may be a 500, every answer must match the documented schema,
schema-valid requests are accepted and schema-violating ones refused (docs/errors.md)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import image_upload, make_member, make_vendor
from tests.support.paths import ROOT
from vendors import services as vendor_services

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def run_schemathesis(live_server, tmp_path, *options: str) -> subprocess.CompletedProcess:
    vendor = make_vendor("fuzz", plan="unlimited")  # request limits would only answer 429s
    owner = make_member(vendor, "fuzz-owner", role="owner")
    own_token, key = vendor_services.api_token_create(user=owner, capped=False)
    spare_token, _ = vendor_services.api_token_create(user=owner, name="spare", capped=False)
    # revoke-all revokes every key of the vendor's members: it is sent with another vendor's key
    other_owner = make_member(make_vendor("fuzz-other", plan="unlimited"), "fuzz-other-owner", role="owner")
    revoke_all_key = vendor_services.api_token_for(user=other_owner)
    project = vendor_services.project_create(vendor=vendor, name="Fuzz")
    vendor_services.record_create(project=project, upload=image_upload("photo.jpg"))

    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {key}",
            *options,
            "--seed",
            os.environ.get("FUZZ_SEED", "1"),  # fixed in CI; another seed is another independent run
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=tmp_path,  # where schemathesis keeps its example database: a fresh one each run
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
            "PYTHONPATH": str(ROOT),
            "FUZZ_OWN_TOKEN_ID": str(own_token.pk),
            "FUZZ_SPARE_TOKEN_ID": str(spare_token.pk),
            "FUZZ_REVOKE_ALL_KEY": revoke_all_key,
        },
    )
    (tmp_path / "schemathesis.txt").write_text(run.stdout)  # the whole report, bodies untruncated
    return run


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_every_check_on_every_operation_finds_nothing(live_server, tmp_path, settings):
    """Every path, every check: undocumented statuses or headers, schema-valid requests refused,
    schema-violating requests accepted, methods that should be 405s."""
    # The outbound rules as deployed (the test settings open loopback for other tests' servers):
    # a well-formed URL that points inside is refused by policy, which the schema must allow for.
    settings.IMAGE_FETCH_ALLOW_PRIVATE = settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.IMAGE_FETCH_ALLOWED_PORTS = settings.WEBHOOK_ALLOWED_PORTS = [80, 443]
    run = run_schemathesis(
        live_server,
        tmp_path,
        "--checks",
        "all",
        "--output-truncate",
        "false",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "5",
    )
    report = "\n".join(line[:300] for line in run.stdout.splitlines())  # request bodies can be huge
    assert run.returncode == 0, report[-20000:] + run.stderr[-2000:]
