"""A multipart body is read like the same body in JSON: a field sent empty is a value to
validate, not "not given" (which would quietly take the default). Operations without a file to
carry take JSON only."""

import pytest

from tests.factories import make_record
from tests.support.clients import client_for


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["priority", "project"])
def test_an_empty_field_in_a_form_is_refused_as_in_json_not_taken_as_its_default(owner, field):
    client = client_for(owner)
    body = {"kind": "transform", "record": 1, field: ""}

    as_form = client.post("/api/v1/jobs/", body, format="multipart")
    as_json = client.post("/api/v1/jobs/", body, format="json")

    assert as_form.status_code == as_json.status_code == 400
    assert as_form.json()["field"] == as_json.json()["field"] == field


@pytest.mark.django_db
def test_a_form_without_the_field_still_takes_the_default(owner, vendor):
    record = make_record(vendor)
    response = client_for(owner).post("/api/v1/jobs/", {"kind": "transform", "record": record.pk}, format="multipart")

    assert response.status_code == 202
    assert response.json()["priority"] == vendor.plan.get_default_priority_display()


@pytest.mark.django_db
def test_api_keys_are_made_with_json_bodies_only(owner):
    client = client_for(owner)

    assert client.post("/api/v1/tokens/", {"name": "shop"}, format="multipart").status_code == 415
    assert client.post("/api/v1/tokens/", {"name": ""}, format="json").json()["field"] == "name"
    assert client.post("/api/v1/tokens/", {"name": "shop"}, format="json").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": 0}, "name"),  # DRF alone would store "0"
        ({"name": "shop", "ttl_days": "5"}, "ttl_days"),  # ... and 5
        ({"name": True}, "name"),
    ],
)
def test_a_json_body_takes_the_types_the_schema_states(owner, body, field):
    response = client_for(owner).post("/api/v1/tokens/", body, format="json")

    assert response.status_code == 400
    assert response.json()["field"] == field


@pytest.mark.django_db
def test_json_job_params_are_an_object_and_record_ids_integers(owner, vendor):
    client = client_for(owner)
    record = make_record(vendor)

    as_text = client.post("/api/v1/jobs/", {"kind": "transform", "record": record.pk, "params": "{}"}, format="json")
    id_as_text = client.post("/api/v1/jobs/bulk/", {"kind": "transform", "records": [str(record.pk)]}, format="json")

    assert (as_text.status_code, as_text.json()["field"]) == (400, "params")
    assert (id_as_text.status_code, id_as_text.json()["field"]) == (400, "records")


@pytest.mark.django_db
def test_a_prompt_only_job_is_a_json_body_a_form_carries_an_input(owner):
    client = client_for(owner)
    body = {"kind": "ai_endpoint", "params": {"endpoint": "e2e", "prompt": "a cat"}}

    as_form = client.post("/api/v1/jobs/", {**body, "params": '{"endpoint": "e2e", "prompt": "a cat"}'})

    assert (as_form.status_code, as_form.json()["field"]) == (400, "image")
    assert client.post("/api/v1/jobs/", body, format="json").status_code == 202


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", [("records", "1"), ("image_urls", "https://example.com/a.jpg")])
def test_a_bulk_form_uploads_images_lists_of_ids_and_urls_are_json(owner, field, value):
    response = client_for(owner).post("/api/v1/jobs/bulk/", {"kind": "transform", field: [value]}, format="multipart")

    assert (response.status_code, response.json()["field"]) == (400, field)
