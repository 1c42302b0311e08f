"""What a job body needs for its kind, said in the schema: one named variant per kind — the
params the kind requires (an AI endpoint's `endpoint`, a pipeline's `steps`) and the inputs it
takes — and a JSON body is one of them, told apart by `kind` (a discriminator); a form keeps one
type and the variants in its `allOf` (job_body). The kinds' serializers stay the one rule; this
only reads them.

Generators name a type after each component, so every variant is a whole object (the body's
fields, `kind` narrowed to its own one-value enum, a named component too) and the rules a type
cannot say (exactly one input) sit in the variant's `allOf`, where validators read them and
generators (docs/clients.md) take only the properties."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent

from processing.jobs.kinds import PROCESSORS

# A processor's input names, and "none" for a kind that may be given no input at all.
JOB_INPUTS = {"upload": "image", "record": "record", "url": "image_url"}
BULK_INPUTS = {"upload": "images", "record": "records", "url": "image_urls"}


def camel(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))


def component(auto_schema, name: str, schema: dict) -> dict:
    """A named schema in components/schemas, and the $ref to it."""
    resolved = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
    auto_schema.registry.register_on_missing(resolved)
    return resolved.ref


def kind_enum(auto_schema, kind: str) -> dict:
    """`kind` in the variant of this kind: this one value, named (e.g. RemoveBgKind)."""
    return component(auto_schema, f"{camel(kind)}Kind", {"type": "string", "enum": [kind]})


def required_params(auto_schema, processor, direction) -> dict:
    required = {}
    for name, field in processor.params().fields.items():
        if field.required:
            required[name] = schema = auto_schema._map_serializer_field(field, direction)
            auto_schema._insert_field_validators(field, schema)
    return required


def kind_variants(
    auto_schema,
    direction,
    base: dict,
    base_name: str,
    kinds,
    inputs: dict[str, str] | None = None,
    *,
    none_allowed: bool = False,
    multipart: bool = False,
    exactly_one: tuple[str, ...] = (),
) -> dict:
    """The body `base` (an object schema named `base_name`) as one of a variant per kind, told apart
    by `kind`. `inputs` maps a processor's input names to the body's fields (those the body has),
    None for a body without inputs (a pipeline step). `none_allowed`: the body may give no input to
    a kind that takes none (one job, not a batch). A multipart body says "one of the inputs the kind
    takes" without `not`, which schemathesis cannot judge beside a file, and "exactly one of
    `exactly_one`" (the inputs the form has) beside it."""
    stem = base_name.removesuffix("Request")
    suffix = base_name[len(stem) :]
    variants: dict[str, dict] = {}
    for kind in kinds:
        processor = PROCESSORS[kind]
        params = required_params(auto_schema, processor, direction)
        if any(schema.get("enum") == [] for schema in params.values()):
            continue  # a required choice this deployment offers nothing for (no AI endpoint configured)
        fields = {name: schema for name, schema in base["properties"].items() if name != "kind"}
        properties = {"kind": kind_enum(auto_schema, kind), **fields}
        required = list(dict.fromkeys([*base.get("required", []), "kind"]))
        if params:
            properties["params"] = {
                **properties.get("params", {"type": "object"}),
                "properties": params,
                "required": list(params),
            }
            required.append("params")
        rules: list[dict] = []
        if inputs is not None:
            takes = [field for name, field in inputs.items() if name in processor.inputs]
            others = [field for field in inputs.values() if field not in takes]
            if not takes and not (none_allowed and "none" in processor.inputs):
                continue  # this body cannot start this kind
            if multipart:
                if len(exactly_one) == 1:
                    required.append(exactly_one[0])
                elif exactly_one:
                    rules.append({"oneOf": [{"required": [field]} for field in exactly_one]})
                if others:
                    rules.append({"anyOf": [{"required": [field]} for field in takes]})
            else:
                cases = [{"required": [field]} for field in takes]
                if none_allowed and "none" in processor.inputs:
                    cases.append({"not": {"anyOf": [{"required": [field]} for field in inputs.values()]}})
                rules.append({"oneOf": cases})
                if others:
                    rules.append({"not": {"anyOf": [{"required": [field]} for field in others]}})
        variant = {"type": "object", "properties": properties, "required": required}
        if "description" in base:
            variant["description"] = base["description"]
        if rules:
            variant["allOf"] = rules
        variants[kind] = component(auto_schema, f"{stem}{camel(kind)}{suffix}", variant)
    # The kinds' variants exclude each other (each its own `kind`), so any of them is one of them;
    # a multipart body says anyOf, as a validator asked "exactly one?" of a body holding file
    # parts cannot answer (schemathesis cannot).
    return {
        "anyOf" if multipart else "oneOf": list(variants.values()),
        "discriminator": {"propertyName": "kind", "mapping": {kind: ref["$ref"] for kind, ref in variants.items()}},
    }


class StepSchema(OpenApiSerializerExtension):
    """A pipeline step: a kind a pipeline may run, with the params that kind requires."""

    target_class = "processing.jobs.kinds.pipeline.StepParams"

    def map_serializer(self, auto_schema, direction):
        chainable = sorted(kind for kind, processor in PROCESSORS.items() if processor.chainable)
        params = {"type": "object", "additionalProperties": True, "description": "Parameters of the kind."}
        base = {"type": "object", "properties": {"params": params}, "required": ["kind"]}
        name = auto_schema._get_serializer_name(self.target, direction)
        return kind_variants(auto_schema, direction, base, name, chainable)


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
            variants = kind_variants(
                auto_schema,
                direction,
                schema,
                auto_schema._get_serializer_name(self.target, direction),
                kinds,
                taken,
                none_allowed=none_allowed,
                multipart=multipart,
                exactly_one=tuple(given) if multipart else (),
            )
            # The body's own fields stay beside the variants: a multipart encoder (schemathesis)
            # finds the file parts there. A JSON body is one of the variants to a generator (one
            # type per kind); a form stays one type with every field, its variants in `allOf`,
            # as generators encode a form from one type (openapi-python-client cannot from a union).
            if multipart:  # no discriminator there: generators read one inside allOf as inheritance
                return {**schema, "allOf": [{"anyOf": variants["anyOf"]}]}
            return schema | variants
