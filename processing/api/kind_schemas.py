"""What a job body needs for its kind, said in the schema: one variant per group of kinds with
the same needs — the params the kind requires (an AI endpoint's `endpoint`, a pipeline's
`steps`) and the inputs it takes. The kinds' serializers stay the one rule; this only reads them."""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension

from processing.jobs.kinds import PROCESSORS

# A processor's input names, and "none" for a kind that may be given no input at all.
JOB_INPUTS = {"upload": "image", "record": "record", "url": "image_url"}
BULK_INPUTS = {"upload": "images", "record": "records", "url": "image_urls"}


def required_params(auto_schema, processor, direction) -> dict:
    required = {}
    for name, field in processor.params().fields.items():
        if field.required:
            required[name] = schema = auto_schema._map_serializer_field(field, direction)
            auto_schema._insert_field_validators(field, schema)
    return required


def one_of_values(values: list[str]) -> dict:
    """These values only. Wrapped in allOf so drf-spectacular's enum hook leaves these one-off
    sets inline instead of naming a component for each."""
    return {"allOf": [{"type": "string", "enum": values}]}


def kind_variants(
    auto_schema,
    direction,
    kinds,
    inputs: dict[str, str] | None = None,
    *,
    none_allowed: bool = False,
    multipart: bool = False,
) -> list[dict]:
    """One schema per group of kinds with the same needs; `inputs` maps a processor's input names
    to the body's fields (those the body has), None for a body without inputs (a pipeline step).
    `none_allowed`: the body may give no input to a kind that takes none (one job, not a batch).
    A multipart body says "one of the inputs the kind takes" without `not`, which schemathesis
    cannot judge beside a file; job_body adds "exactly one input" for it."""
    groups: dict[str, tuple[dict, list[str]]] = {}  # the kinds with one need, by that need as JSON
    for kind in kinds:
        processor = PROCESSORS[kind]
        need: dict = {}
        params = required_params(auto_schema, processor, direction)
        if any(schema.get("enum") == [] for schema in params.values()):
            continue  # a required choice this deployment offers nothing for (no AI endpoint configured)
        if params:
            need["properties"] = {"params": {"type": "object", "properties": params, "required": list(params)}}
            need["required"] = ["params"]
        if inputs is not None:
            takes = [field for name, field in inputs.items() if name in processor.inputs]
            others = [field for field in inputs.values() if field not in takes]
            if not takes and not (none_allowed and "none" in processor.inputs):
                continue  # this body cannot start this kind
            if multipart:
                if others:
                    need["anyOf"] = [{"required": [field]} for field in takes]
            else:
                cases = [{"required": [field]} for field in takes]
                if none_allowed and "none" in processor.inputs:
                    cases.append({"not": {"anyOf": [{"required": [field]} for field in inputs.values()]}})
                need["oneOf"] = cases
                if others:
                    need["not"] = {"anyOf": [{"required": [field]} for field in others]}
        groups.setdefault(json.dumps(need, sort_keys=True), (need, []))[1].append(kind)
    return [
        {**need, "properties": {"kind": one_of_values(group), **need.get("properties", {})}}
        for need, group in groups.values()
    ]


class StepSchema(OpenApiSerializerExtension):
    """A pipeline step: a kind a pipeline may run, with the params that kind requires."""

    target_class = "processing.jobs.kinds.pipeline.StepParams"

    def map_serializer(self, auto_schema, direction):
        chainable = sorted(kind for kind, processor in PROCESSORS.items() if processor.chainable)
        return {
            "type": "object",
            "properties": {"kind": one_of_values(chainable), "params": {"type": "object"}},
            "required": ["kind"],
            "oneOf": kind_variants(auto_schema, direction, chainable),
        }


def job_body(
    serializer_class, inputs: dict[str, str], *, multipart: bool, none_allowed: bool, uploads_only: bool = False
) -> None:
    """Say in the schema what the serializers' validate() say: per kind, the params it requires
    and the inputs it takes, one of them (of those the body has). A list given may not be empty,
    and a multipart body sends a list as one part per item, of which Django takes
    DATA_UPLOAD_MAX_NUMBER_FIELDS at most. `uploads_only`: describe only the file input — a
    multipart body cannot send an empty list (no part is no list), so lists of ids and URLs are
    described for JSON bodies only (BulkCreateInput refuses them in a form)."""

    class JobBody(OpenApiSerializerExtension):
        target_class = serializer_class

        def map_serializer(self, auto_schema, direction):
            schema = auto_schema._map_basic_serializer(self.target, direction)
            if direction != "request":
                return schema
            properties = schema["properties"]
            if uploads_only:
                for name in [inputs[key] for key in inputs if key != "upload"]:
                    properties.pop(name, None)
            given = [name for name in inputs.values() if name in properties]
            for name in given:
                if properties[name].get("type") == "array":
                    properties[name]["minItems"] = 1
                    if multipart:
                        most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS - (len(properties) - 1)
                        properties[name]["maxItems"] = min(properties[name].get("maxItems", most), most)
            kinds = sorted(PROCESSORS)
            taken = {name: field for name, field in inputs.items() if field in given}
            schema["oneOf"] = kind_variants(
                auto_schema, direction, kinds, taken, none_allowed=none_allowed, multipart=multipart
            )
            if multipart:
                schema["allOf"] = [{"oneOf": [{"required": [name]} for name in given]}]
            return schema
