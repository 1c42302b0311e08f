"""What a job body needs for its kind, said in the schema: one variant per group of kinds with
the same needs — the params the kind requires (an AI endpoint's `endpoint`, a pipeline's
`steps`) and the inputs it takes. The kinds' serializers stay the one rule; this only reads them."""

from __future__ import annotations

import json

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
    groups: dict[str, list[str]] = {}
    needs: dict[str, dict] = {}
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
        key = json.dumps(need, sort_keys=True)
        groups.setdefault(key, []).append(kind)
        needs[key] = need
    variants = []
    for key, group in groups.items():
        need = needs[key]
        variants.append({**need, "properties": {"kind": one_of_values(group), **need.get("properties", {})}})
    return variants


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
