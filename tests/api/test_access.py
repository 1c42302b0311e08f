"""Who may do what: owner and member act for their vendor; another vendor sees nothing of it
(404 on every object, on every method); anonymous callers are refused (401)."""

import pytest

from processing.jobs.models import Batch, Job
from tests.factories import image_upload
from tests.support.clients import client_for
from vendors.models import Project, Record

pytestmark = pytest.mark.django_db


def object_requests(objects):
    """Every request on one of acme's objects: (method, url, data, format)."""
    job, batch = objects["job"].pk, objects["batch"].pk
    project, record = objects["project"].pk, objects["record"].pk
    return [
        ("get", f"/api/v1/jobs/{job}/", None, None),
        ("post", f"/api/v1/jobs/{job}/cancel/", None, None),
        ("post", f"/api/v1/jobs/{job}/retry/", None, None),
        ("get", f"/api/v1/batches/{batch}/", None, None),
        ("post", f"/api/v1/batches/{batch}/cancel/", None, None),
        ("get", f"/api/v1/projects/{project}/records/", None, None),
        ("post", f"/api/v1/projects/{project}/records/", lambda: {"image": image_upload("photo.jpg")}, "multipart"),
        ("get", f"/api/v1/records/{record}/", None, None),
        ("post", "/api/v1/jobs/", lambda: {"kind": "transform", "record": record}, "json"),
        ("post", "/api/v1/jobs/bulk/", lambda: {"kind": "transform", "records": [record]}, "json"),
        (
            "post",
            "/api/v1/jobs/",
            lambda: {"kind": "transform", "image": image_upload("photo.jpg"), "project": project},
            "multipart",
        ),
        (
            "post",
            "/api/v1/jobs/bulk/",
            lambda: {"kind": "transform", "images": [image_upload("photo.jpg")], "project": project},
            "multipart",
        ),
    ]


COLLECTIONS = [
    ("get", "/api/v1/jobs/"),
    ("get", "/api/v1/projects/"),
    ("get", "/api/v1/queue/stats/"),
    ("get", "/api/v1/quota/"),
]


def call(client, method, url, data=None, fmt=None):
    payload = data() if callable(data) else data
    return getattr(client, method)(url, payload, format=fmt) if payload is not None else getattr(client, method)(url)


def snapshot():
    return (
        sorted(Job.objects.values_list("pk", "state")),
        Batch.objects.count(),
        Project.objects.count(),
        Record.objects.count(),
    )


def test_another_vendor_gets_404_on_every_object_and_changes_nothing(acme_objects, outsider):
    client = client_for(outsider)
    before = snapshot()
    for method, url, data, fmt in object_requests(acme_objects):
        response = call(client, method, url, data, fmt)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == "not_found", (method, url)
    assert snapshot() == before


def test_another_vendor_lists_none_of_acmes_things(acme_objects, outsider):
    client = client_for(outsider)
    assert client.get("/api/v1/jobs/").json()["results"] == []
    assert client.get("/api/v1/projects/").json()["count"] == 0
    for name in ("project", "record", "batch"):
        filtered = client.get("/api/v1/jobs/", {name: acme_objects[name].pk})
        assert filtered.status_code == 200 and filtered.json()["results"] == []
    mine = {row["kind"]: row["vendor"]["total"] for row in client.get("/api/v1/queue/stats/").json()}
    assert mine["transform"] == 0


@pytest.mark.parametrize("who", ["owner", "member"])
def test_owner_and_member_act_on_every_object(acme_objects, owner, member, who):
    client = client_for(owner if who == "owner" else member)
    expected = {
        ("get", "jobs"): 200,
        ("post", "cancel"): 200,
        ("post", "retry"): 202,
        ("get", "batches"): 200,
        ("get", "records"): 200,
        ("post", "records"): 201,
        ("post", "jobs"): 202,
        ("post", "bulk"): 202,
    }
    for method, url, data, fmt in object_requests(acme_objects):
        response = call(client, method, url, data, fmt)
        segment = next(part for part in reversed(url.strip("/").split("/")) if not part.isdigit() and "-" not in part)
        want = expected.get((method, segment), 200)
        assert response.status_code == want, (method, url, response.content)
    for method, url in COLLECTIONS:
        assert call(client, method, url).status_code == 200, url


def test_anonymous_callers_get_401_everywhere(acme_objects, api):
    for method, url, data, fmt in object_requests(acme_objects):
        response = call(api, method, url, data, fmt)
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "not_authenticated"
    for method, url in [*COLLECTIONS, ("post", "/api/v1/projects/")]:
        assert call(api, method, url).status_code == 401, url


def test_a_wrong_token_is_401_with_the_json_error(api, acme_objects):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get(f"/api/v1/jobs/{acme_objects['job'].pk}/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_portal_session_authenticates_the_api(api, acme_objects, owner):
    api.force_login(owner)
    assert api.get(f"/api/v1/records/{acme_objects['record'].pk}/").status_code == 200


def test_a_user_without_a_vendor_is_refused(api, db):
    from django.contrib.auth import get_user_model

    lonely = get_user_model().objects.create_user(username="lonely", password="pw")
    response = client_for(lonely).get("/api/v1/jobs/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
