"""The job bodies' per-kind variants as generators need them (docs/clients.md): every variant and
every kind's enum a named component, a discriminator on `kind` mapping each kind to its own
variant, and no anonymous enum left inside an `allOf` for a generator to name."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from processing.jobs.kinds import PROCESSORS


@pytest.fixture(scope="module")
def schemas():
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


@pytest.mark.parametrize("body", ["JobCreateJsonInputRequest", "BulkCreateJsonInputRequest", "StepParamsRequest"])
def test_a_json_body_is_one_named_variant_per_kind_told_apart_by_kind(schemas, body):
    discriminator = schemas[body]["discriminator"]
    assert discriminator["propertyName"] == "kind"
    assert [ref["$ref"] for ref in schemas[body]["oneOf"]] == list(discriminator["mapping"].values())
    for kind, ref in discriminator["mapping"].items():
        assert kind in PROCESSORS
        variant = schemas[ref.rsplit("/", 1)[1]]
        assert "kind" in variant["required"]
        enum = schemas[variant["properties"]["kind"]["$ref"].rsplit("/", 1)[1]]
        assert enum == {"type": "string", "enum": [kind]}


@pytest.mark.parametrize("body", ["JobCreateInputRequest", "BulkCreateInputRequest"])
def test_a_form_is_one_type_with_its_per_kind_variants_in_all_of(schemas, body):
    form = schemas[body]
    assert "oneOf" not in form and "anyOf" not in form  # a union cannot be sent as a form by generators
    assert {"kind", "params"} <= set(form["properties"])
    variants = [ref["$ref"].rsplit("/", 1)[1] for ref in form["allOf"][0]["anyOf"]]
    assert variants and all(name in schemas and name.startswith(body.removesuffix("Request")) for name in variants)


def test_no_anonymous_enum_inside_an_all_of(schemas):
    def inline_enums(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "allOf" and any("enum" in member for member in value if isinstance(member, dict)):
                    yield json.dumps(value)[:200]
                yield from inline_enums(value)
        elif isinstance(node, list):
            for item in node:
                yield from inline_enums(item)

    assert list(inline_enums(schemas)) == []
