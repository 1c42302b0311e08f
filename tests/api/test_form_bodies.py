"""A multipart or urlencoded body is read like the same body in JSON: a field sent empty is a
value to validate, not "not given" (which would quietly take the default)."""

import pytest

from tests.conftest import client_for


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["multipart", "json"])
def test_an_empty_key_name_is_refused_in_a_form_as_in_json(owner, content_type):
    client = client_for(owner)
    if content_type == "json":
        response = client.post("/api/v1/tokens/", {"name": ""}, format="json")
    else:
        response = client.post("/api/v1/tokens/", {"name": ""})

    assert response.status_code == 400
    assert response.json()["field"] == "name"


@pytest.mark.django_db
def test_a_form_without_the_field_still_takes_the_default(owner):
    response = client_for(owner).post("/api/v1/tokens/", {"ttl_days": "0"})

    assert response.status_code == 201
    assert response.json()["name"] == "default"


@pytest.mark.django_db
def test_an_empty_priority_in_a_form_is_refused_not_taken_as_the_plans(owner):
    response = client_for(owner).post("/api/v1/jobs/", {"kind": "transform", "record": "1", "priority": ""})

    assert response.status_code == 400
    assert response.json()["field"] == "priority"
