"""Integrators generate their clients from the schema the server serves (docs/clients.md): a Python
package with openapi-python-client, TypeScript types with openapi-typescript. Both are built here
from this server's /api/schema/, never committed, so they cannot drift: the Python client then
drives the live server and a real worker through every step an integration takes, and the
TypeScript types are held to tests/clients/usage.ts by `tsc --strict`."""

import importlib
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.factories import make_job
from tests.support.loopback import Request
from tests.support.paths import ROOT
from tests.support.photos import image_bytes
from tests.support.waiting import FINISHED, wait_for
from vendors.services import api_token_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HERE = Path(__file__).parent
VENV_BIN = Path(sys.executable).parent
NODE = ROOT / "var" / "node"  # gitignored: the npm packages of tests/clients/package-lock.json
PACKAGE = "darkroom_client"


@pytest.fixture(scope="module")
def schema(live_server, tmp_path_factory) -> Path:
    """The schema as an integrator downloads it."""
    response = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=60)
    assert response.status_code == 200, response.text
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    path.write_bytes(response.content)
    return path


def generated_python_client(schema: Path) -> subprocess.CompletedProcess:
    """`openapi-python-client generate`, with its post hooks (ruff) found as on an integrator's machine."""
    return subprocess.run(
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(schema), "--meta", "none"]
        + ["--output-path", str(schema.parent / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


@pytest.fixture(scope="module")
def gen(schema):
    """The generated package, imported: its client, its operations (api.v1) and its models."""
    run = generated_python_client(schema)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for trouble in ("Warning", "Unable to", "Skipping", "error"):
        assert trouble.lower() not in output.lower(), output
    sys.path.insert(0, str(schema.parent))
    try:
        package = importlib.import_module(PACKAGE)
        for module in ("client", "models", "types", "errors"):
            importlib.import_module(f"{PACKAGE}.{module}")
        for operation in (schema.parent / PACKAGE / "api" / "v1").glob("*.py"):
            importlib.import_module(f"{PACKAGE}.api.v1.{operation.stem}")  # every one imports
        yield package
    finally:
        sys.path.remove(str(schema.parent))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def client(gen, live_server, owner):
    """The generated client as an integrator makes it: the API key as a bearer token."""
    with gen.client.AuthenticatedClient(
        base_url=live_server.url, token=api_token_for(user=owner), raise_on_unexpected_status=True, timeout=30
    ) as client:
        yield client


def op(name: str):
    """An operation's module: sync, sync_detailed, asyncio, asyncio_detailed."""
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def finished(gen, client, job_id, timeout: float = 120):
    """Poll the job with the generated client until it ends, as an integrator would."""
    retrieve = op("jobs_retrieve")
    return wait_for(
        lambda: (job := retrieve.sync(client=client, job_id=job_id)).state in FINISHED and job,
        timeout=timeout,
        interval=0.2,
        what=f"job {job_id} to finish",
    )


def image_file(gen, name: str, size: tuple[int, int]):
    """An upload for the generated client: a real image of the type its name says."""
    format, mime_type = ("JPEG", "image/jpeg") if name.endswith(".jpg") else ("PNG", "image/png")
    return gen.types.File(payload=io.BytesIO(image_bytes(size, format=format)), file_name=name, mime_type=mime_type)


def photo_server(serve, *names: str):
    jpeg = image_bytes((96, 64), format="JPEG")
    return serve({f"/{name}": lambda request: (200, {"Content-Type": "image/jpeg"}, jpeg) for name in names})


def test_the_python_client_generates_without_a_warning_and_every_operation_imports(gen):
    operations = {path.stem for path in Path(op("jobs_create").__file__).parent.glob("*.py")}
    assert {"jobs_create", "jobs_bulk_create", "jobs_cancel", "jobs_retry", "webhooks_create"} <= operations
    models = gen.models
    # Every kind a job body may name is its own type, its `kind` a one-value enum.
    body = models.JobCreateJsonInputTransformRequest(kind=models.TransformKind.TRANSFORM, record=7)
    assert body.to_dict() == {"kind": "transform", "record": 7}
    assert [kind.value for kind in models.PipelineKind] == ["pipeline"]
    steps = models.JobCreateJsonInputPipelineRequestParams.from_dict({"steps": [{"kind": "remove_bg"}]}).steps
    assert isinstance(steps[0], models.StepParamsRemoveBgRequest)  # a step is read by its kind
    form = models.JobCreateInputRequest(kind=models.KindEnum.REMOVE_BG, record=7)  # a form: one type
    assert dict(form.to_multipart()) == {
        "kind": (None, b"remove_bg", "text/plain"),
        "record": (None, b"7", "text/plain"),
    }


def test_an_uploaded_image_becomes_a_cutout(worker, gen, client):
    models = gen.models
    body = models.JobCreateInputRequest(  # a form is one type, every kind's variant in its allOf
        kind=models.KindEnum.REMOVE_BG,
        image=image_file(gen, "a.jpg", (64, 48)),
    )
    created = op("jobs_create").sync_detailed(client=client, body=body)
    assert created.status_code == 202, created.content
    assert created.parsed.state == models.StateEnum.QUEUED

    job = finished(gen, client, created.parsed.id)
    assert job.state == models.StateEnum.SUCCEEDED, job
    assert job.kind == "remove_bg" and job.result.content_type == "image/png"
    png = httpx.get(job.result.url, timeout=30)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_a_json_job_by_image_url_with_an_idempotency_key(worker, gen, client, serve):
    models = gen.models
    server = photo_server(serve, "photo.jpg")
    body = models.JobCreateJsonInputTransformRequest(
        kind=models.TransformKind.TRANSFORM,
        image_url=server.url("/photo.jpg"),
        params=models.JobCreateJsonInputTransformRequestParams.from_dict({"width": 48, "format": "webp"}),
    )
    create = op("jobs_create")
    first = create.sync(client=client, body=body, idempotency_key="order-1234")
    again = create.sync(client=client, body=body, idempotency_key="order-1234")
    assert isinstance(first, models.JobOutput) and again.id == first.id  # one job, however often sent

    job = finished(gen, client, first.id)
    assert job.state == models.StateEnum.SUCCEEDED, job
    assert (job.result.width, job.result.height, job.result.content_type) == (48, 32, "image/webp")
    assert server.calls("/photo.jpg") == 1


def test_a_bulk_pipeline_by_image_urls_finishes_as_a_batch(worker, gen, client, serve):
    models = gen.models
    server = photo_server(serve, "a.jpg", "b.jpg")
    steps = [
        models.StepParamsTransformRequest(
            kind=models.TransformKind.TRANSFORM,
            params=models.StepParamsTransformRequestParams.from_dict({"width": 32}),
        ),
        models.StepParamsTransformRequest(
            kind=models.TransformKind.TRANSFORM,
            params=models.StepParamsTransformRequestParams.from_dict({"format": "jpeg"}),
        ),
    ]
    body = models.BulkCreateJsonInputPipelineRequest(
        kind=models.PipelineKind.PIPELINE,
        image_urls=[server.url("/a.jpg"), server.url("/b.jpg")],
        params=models.BulkCreateJsonInputPipelineRequestParams(steps=steps),
    )
    created = op("jobs_bulk_create").sync_detailed(client=client, body=body)
    assert created.status_code == 202, created.content
    assert created.parsed.count == 2 and len(created.parsed.jobs) == 2

    retrieve = op("batches_retrieve")
    batch = wait_for(
        lambda: (batch := retrieve.sync(client=client, batch_id=created.parsed.batch)).finished_at and batch,
        timeout=120,
        interval=0.3,
        what="the batch to finish",
    )
    assert (batch.total, batch.succeeded) == (2, 2), batch
    jobs = op("jobs_list").sync(client=client, batch=created.parsed.batch).results
    assert {(job.result.width, job.result.content_type) for job in jobs} == {(32, "image/jpeg")}


def test_cancel_then_retry_runs_the_job_again(worker, gen, client):
    models = gen.models
    project = op("projects_create").sync(client=client, body=models.ProjectInputRequest(name="Clients"))
    upload = models.RecordUploadInputRequest(image=image_file(gen, "r.png", (8, 8)))
    record = op("projects_records_create").sync(client=client, project_id=project.id, body=upload)
    body = models.JobCreateJsonInputSleepyRequest(
        kind=models.SleepyKind.SLEEPY,
        record=record.id,
        params=models.JobCreateJsonInputSleepyRequestParams.from_dict({"seconds": 1.5, "steps": 15}),
    )
    job = op("jobs_create").sync(client=client, body=body)

    cancelled = op("jobs_cancel").sync(client=client, job_id=job.id)
    assert cancelled.state == models.StateEnum.CANCELLED
    again = op("jobs_cancel").sync_detailed(client=client, job_id=job.id)
    assert again.status_code == 409 and again.parsed.code == "invalid_state"  # a problem, parsed

    retried = op("jobs_retry").sync(client=client, job_id=job.id)
    assert retried.state == models.StateEnum.QUEUED
    assert finished(gen, client, job.id).state == models.StateEnum.SUCCEEDED


def test_a_webhook_made_by_the_client_receives_verifiable_deliveries(worker, gen, client, serve):
    models = gen.models
    received: list[Request] = []

    def receive(request):
        received.append(request)
        return 204, {}, b""

    receiver = serve({"/hooks": receive})
    created = op("webhooks_create").sync_detailed(
        client=client,
        body=models.WebhookCreateInputRequest(url=receiver.url("/hooks"), events=[models.EventsEnum.JOB_SUCCEEDED]),
    )
    assert created.status_code == 201, created.content
    secret = created.parsed.secret
    assert secret.startswith("whsec_")

    body = models.JobCreateInputRequest(
        kind=models.KindEnum.TRANSFORM,
        image=image_file(gen, "w.png", (20, 10)),
    )
    job = op("jobs_create").sync(client=client, body=body)
    assert finished(gen, client, job.id).state == models.StateEnum.SUCCEEDED
    wait_for(lambda: received, timeout=60, what="the webhook delivery")
    delivery = received[0]
    event = Webhook(secret).verify(delivery.body, dict(delivery.headers.items()))
    assert event["type"] == "job.succeeded" and event["data"]["id"] == str(job.id)


def test_pages_by_cursor_and_problem_details(gen, client, vendor):
    for _ in range(5):
        make_job(vendor)
    jobs_list, seen, cursor = op("jobs_list"), [], gen.types.UNSET
    while True:
        page = jobs_list.sync(client=client, page_size=2, cursor=cursor)
        seen += [job.id for job in page.results]
        if not page.next_:
            break
        cursor = httpx.URL(page.next_).params["cursor"]
    assert len(seen) == len(set(seen)) == 5

    models = gen.models
    too_narrow = models.JobCreateJsonInputTransformRequestParams.from_dict({"width": 0})
    refused = op("jobs_create").sync_detailed(
        client=client,
        body=models.JobCreateJsonInputTransformRequest(
            kind=models.TransformKind.TRANSFORM, image_url="https://example.com/a.jpg", params=too_narrow
        ),
    )
    assert refused.status_code == 400
    problem = refused.parsed
    assert isinstance(problem, models.Problem), problem
    assert (problem.code, problem.field, problem.type_) == ("invalid_params", "params", "/api/problems/invalid_params")
    assert "width" in problem.detail
    assert refused.headers["content-type"] == "application/problem+json"


# TypeScript: types generated with openapi-typescript, checked with tsc --strict.


def node_tools() -> Path:
    """var/node/node_modules/.bin, installed with `npm ci` from the committed lock when it changed."""
    if shutil.which("npm") is None:
        pytest.fail("npm is needed (Node 20+) to generate and check the TypeScript types")
    NODE.mkdir(parents=True, exist_ok=True)
    lock = HERE / "package-lock.json"
    installed = NODE / "node_modules" / ".package-lock.json"
    if not installed.exists() or (NODE / "package-lock.json").read_bytes() != lock.read_bytes():
        shutil.copy(HERE / "package.json", NODE / "package.json")
        shutil.copy(lock, NODE / "package-lock.json")
        npm = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE, capture_output=True, text=True, timeout=600
        )
        assert npm.returncode == 0, npm.stdout + npm.stderr
    return NODE / "node_modules" / ".bin"


def test_typescript_types_check_strictly_against_a_typed_usage(schema, tmp_path):
    tools = node_tools()
    started = time.monotonic()
    generate = subprocess.run(
        [str(tools / "openapi-typescript"), str(schema), "--output", str(tmp_path / "darkroom.d.ts")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generate.returncode == 0, generate.stdout + generate.stderr
    assert "warn" not in (generate.stdout + generate.stderr).lower(), generate.stdout + generate.stderr
    shutil.copy(HERE / "usage.ts", tmp_path / "usage.ts")
    check = subprocess.run(
        [str(tools / "tsc"), "--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom"]
        + ["--module", "esnext", "--moduleResolution", "bundler", "usage.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"TypeScript generated and checked in {time.monotonic() - started:.1f} s")
