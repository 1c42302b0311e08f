import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs.models import Job
from tests.factories import image_upload
from tests.support.clients import client_for
from vendors.models import Record

pytestmark = pytest.mark.django_db


def upload(content: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return image_upload(name, content)


def test_upload_answers_202_with_the_job(owner, astronaut_jpeg):
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "remove_bg", "image": upload(astronaut_jpeg)}, format="multipart"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "kind",
        "state",
        "priority",
        "progress",
        "attempts",
        "error",
        "result",
        "record",
        "batch",
        "created_at",
        "started_at",
        "finished_at",
    }
    assert body["state"] == "queued"
    assert body["priority"] == "normal"
    assert body["progress"] == {"percent": 0, "stage": "", "message": ""}
    assert body["error"] is None and body["result"] is None
    record = Record.objects.get(pk=body["record"])
    assert record.original.read() == astronaut_jpeg  # bytes in storage, the name in the row
    assert Job.objects.get(pk=body["id"]).vendor == record.vendor


def test_a_job_from_an_existing_record_takes_params_and_priority(owner, astronaut_jpeg):
    client = client_for(owner)
    first = client.post("/api/v1/jobs/", {"kind": "transform", "image": upload(astronaut_jpeg)}, format="multipart")
    response = client.post(
        "/api/v1/jobs/",
        {
            "kind": "transform",
            "record": first.json()["record"],
            "priority": "high",
            "params": {"width": 64, "format": "webp"},
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert response.json()["priority"] == "high"
    assert job.params["width"] == 64 and job.params["format"] == "webp" and job.params["mode"] == "fit"


def test_a_member_reads_the_vendors_job_and_an_outsider_gets_404(owner, member, outsider, astronaut_jpeg):
    created = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "face_crop", "image": upload(astronaut_jpeg)}, format="multipart"
    )
    url = f"/api/v1/jobs/{created.json()['id']}/"
    assert client_for(owner).get(url).status_code == 200
    assert client_for(member).get(url).json()["id"] == created.json()["id"]
    denied = client_for(outsider).get(url)
    assert denied.status_code == 404
    assert denied.json()["code"] == "not_found"


def test_an_outsider_cannot_start_a_job_on_another_vendors_record(owner, outsider, astronaut_jpeg):
    created = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "remove_bg", "image": upload(astronaut_jpeg)}, format="multipart"
    )
    response = client_for(outsider).post(
        "/api/v1/jobs/", {"kind": "remove_bg", "record": created.json()["record"]}, format="json"
    )
    assert response.status_code == 404
    assert Job.objects.count() == 1


def test_anonymous_callers_are_refused(api):
    response = api.post("/api/v1/jobs/", {"kind": "remove_bg"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "payload, field, code",
    [
        ({"kind": "sharpen", "record": 1}, "kind", "invalid_choice"),
        ({"kind": "remove_bg"}, "image", "invalid"),
        ({"kind": "transform", "record": 1, "params": {"mode": "fill", "width": 10}}, "params", "invalid_params"),
        ({"kind": "transform", "record": 1, "params": "{not json"}, "params", "invalid"),
        ({"kind": "remove_bg", "record": 1, "params": {"model": "birefnet-massive"}}, "params", "invalid_params"),
        ({"kind": "remove_bg", "record": 1, "priority": "urgent"}, "priority", "invalid_choice"),
    ],
)
def test_bad_input_gets_a_json_400_naming_the_field_and_writes_nothing(owner, astronaut_jpeg, payload, field, code):
    client = client_for(owner)
    client.post("/api/v1/jobs/", {"kind": "transform", "image": upload(astronaut_jpeg)}, format="multipart")
    payload = {**payload, "record": Record.objects.get().pk} if "record" in payload else payload
    response = client.post("/api/v1/jobs/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    error = response.json()
    assert error["code"] == code
    assert error["field"] == field
    assert error["detail"]
    assert error["type"] == f"/api/problems/{code}" and error["status"] == 400 and error["title"]
    assert Job.objects.count() == 1


def test_an_empty_upload_is_refused(owner):
    response = client_for(owner).post("/api/v1/jobs/", {"kind": "remove_bg", "image": upload(b"")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "empty_upload"
    assert not Record.objects.exists()


def test_a_job_id_that_is_not_a_uuid_is_a_404(owner):
    assert client_for(owner).get("/api/v1/jobs/not-a-uuid/").status_code == 404


def test_an_unknown_api_path_is_a_json_404(owner):
    response = client_for(owner).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "/api/problems/not_found",
        "title": "Not found",
        "status": 404,
        "detail": "no such endpoint: /api/v1/no-such-thing/",
        "code": "not_found",
        "field": None,
    }


def test_an_upload_records_its_dimensions(owner, astronaut_jpeg):
    body = (
        client_for(owner)
        .post("/api/v1/jobs/", {"kind": "transform", "image": upload(astronaut_jpeg)}, format="multipart")
        .json()
    )
    record = Record.objects.get(pk=body["record"])
    assert (record.width, record.height) == (512, 512)


def test_a_prompt_only_ai_endpoint_job_takes_no_input(owner):
    """ai_endpoint declares it takes no input (a generation from a prompt): no image is asked for."""
    api = client_for(owner)
    response = api.post(
        "/api/v1/jobs/", {"kind": "ai_endpoint", "params": {"endpoint": "e2e", "prompt": "a cat"}}, format="json"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.kind == "ai_endpoint" and job.record_id is None and job.input_url == ""
    # A kind that needs an image still refuses a request without one, in the problem shape.
    refused = api.post("/api/v1/jobs/", {"kind": "transform", "params": {}}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "image"
