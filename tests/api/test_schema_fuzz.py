"""schemathesis drives every operation of /api/schema/ (valid and invalid input) against a live
server: no answer may be a 500, and every answer must match the documented schema."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import image_upload, make_member, make_vendor
from tests.support.paths import ROOT
from vendors import services as vendor_services

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
OUR_PATHS = r"^/api/v1/(jobs|batches|projects|records|queue|quota)"


def run_schemathesis(live_server, tmp_path, *options: str) -> subprocess.CompletedProcess:
    vendor = make_vendor("fuzz", plan="unlimited")  # request limits would only answer 429s
    owner = make_member(vendor, "fuzz-owner", role="owner")
    own_token, key = vendor_services.api_token_create(user=owner, capped=False)
    spare_token, _ = vendor_services.api_token_create(user=owner, name="spare", capped=False)
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
            "1",
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
        },
    )
    (tmp_path / "schemathesis.txt").write_text(run.stdout)  # the whole report, bodies untruncated
    return run


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_fuzzing_the_documented_api_finds_no_server_error(live_server, tmp_path):
    run = run_schemathesis(
        live_server,
        tmp_path,
        "--include-path-regex",
        OUR_PATHS,
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "8",
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.xfail(
    strict=True,  # once the run is clean this fails as XPASS: then drop the mark
    reason="two ST202 left: a kind's params are a free object in the job bodies (ai_endpoint needs "
    "`endpoint`; seed 1 hits it in a multipart bulk body), and schemathesis' coverage phase sends all three job inputs in one "
    "multipart body despite the body's oneOf (it judges no oneOf exclusivity for a value holding a file). "
    "Describing multipart bodies per kind makes schemathesis 4.32 crash (Unsupported type: 'Binary'), and "
    "per-kind JSON bodies push the conformance run past pytest's timeout (commit 76104fd holds that attempt)",
)
def test_every_check_on_every_operation_finds_nothing(live_server, tmp_path):
    """Every path, every check: undocumented statuses or headers, schema-valid requests refused,
    schema-violating requests accepted, methods that should be 405s."""
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
