"""The request bodies that start jobs, described per kind from the kinds registry: `kind` picks
one variant (a oneOf with a discriminator) whose `params` are the schema drf-spectacular makes
of that kind's own params serializer, and whose inputs are the ones the kind takes. Nothing here
restates a bound; the rules between params come from the kinds' declarations (kinds/base.py)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent

from processing.jobs.kinds import PROCESSORS
from processing.jobs.kinds.base import KindParams, RequiredWhen

# What a body may not hold.
FORBIDDEN = {"not": {}}


def one_of_values(values, of_type: str = "string") -> dict:
    """These values only. Wrapped in allOf so drf-spectacular's enum hook leaves these one-off
    sets (a variant's kind, a rule's case) inline instead of naming a component for each."""
    return {"allOf": [{"type": of_type, "enum": list(values)}]}


class OfferedChoiceSchema(OpenApiSerializerFieldExtension):
    target_class = "processing.jobs.kinds.base.OfferedChoiceField"

    def map_serializer_field(self, auto_schema, direction):
        offered = list(self.target.choices)
        return one_of_values(offered) if offered else FORBIDDEN


class OfferedSwitchSchema(OpenApiSerializerFieldExtension):
    target_class = "processing.jobs.kinds.base.OfferedSwitch"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "boolean"} if self.target.offered() else one_of_values([False], "boolean")


class KindParamsSchema(OpenApiSerializerExtension):
    """A kind's params with its required-when rules: one oneOf per field the rules look at."""

    target_class = KindParams
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if vars(type(self.target)).get("__doc__") is None:
            schema.pop("description", None)  # KindParams' own docstring, not the kind's
        # A choice nothing is offered for is left undeclared rather than forbidden with `not`,
        # which schemathesis' coverage phase cannot judge beside a file in a multipart body.
        schema["properties"] = {name: value for name, value in schema["properties"].items() if value != FORBIDDEN}
        by_field: dict[str, list[RequiredWhen]] = {}
        for rule in self.target.required_when:
            by_field.setdefault(rule.field, []).append(rule)
        cases = [self._cases(schema, field, rules) for field, rules in by_field.items()]
        if len(cases) == 1:
            schema["oneOf"] = cases[0]
        elif cases:
            schema["allOf"] = [{"oneOf": case} for case in cases]
        return schema

    def _cases(self, schema: dict, field: str, rules: list[RequiredWhen]) -> list[dict]:
        serializer_field = self.target.fields[field]
        ruled = {value for rule in rules for value in rule.values}
        free = [value for value in serializer_field.choices if value not in ruled]
        cases = [(free, ())] if free else []
        cases += [(list(rule.values), rule.fields) for rule in rules]
        return [self._case(schema, field, values, needs, serializer_field.default) for values, needs in cases]

    @staticmethod
    def _case(schema: dict, field: str, values: list, needs: tuple[str, ...], default) -> dict:
        properties = {field: one_of_values(values)}
        # Given, and not null: the type alone, without the property's `nullable`.
        properties.update({name: {"type": schema["properties"][name]["type"]} for name in needs})
        # A field left out takes its default, so only the case holding the default lets it be left out.
        required = ([] if default in values else [field]) + list(needs)
        return {"properties": properties, **({"required": required} if required else {})}


class PipelineStepSchema(OpenApiSerializerExtension):
    """A pipeline step: one variant per kind a pipeline may run, with that kind's params."""

    target_class = "processing.jobs.kinds.pipeline.StepParams"

    def map_serializer(self, auto_schema, direction):
        variants = {}
        for kind, processor in sorted(PROCESSORS.items()):
            if not processor.chainable:
                continue
            params = params_component(auto_schema, processor, direction)
            if params is not None:
                variants[kind] = {
                    "type": "object",
                    "properties": {"kind": one_of_values([kind]), "params": params.ref},
                    "required": ["kind", *(["params"] if params.schema.get("required") else [])],
                }
        return {"oneOf": list(variants.values())}


def params_component(auto_schema, processor, direction) -> ResolvedComponent | None:
    """The component of the kind's params, or None when this deployment cannot take any
    (a required choice nothing is offered for, such as an AI endpoint where none is configured)."""
    params = auto_schema.resolve_serializer(processor.params, direction)
    properties = params.schema.get("properties", {})
    if any(properties.get(name, FORBIDDEN) == FORBIDDEN for name in params.schema.get("required", [])):
        return None
    return params


def per_kind(serializer_class, inputs: dict[str, str], *, carries_files: bool) -> None:
    """Describe `serializer_class`'s request. A JSON body: one variant per kind (discriminated by
    `kind`), one object per input the kind takes. A multipart body: see exactly_one_input.
    `inputs` maps a processor's input names (record, upload, url) to this body's fields."""

    class PerKind(OpenApiSerializerExtension):
        target_class = serializer_class

        def map_serializer(self, auto_schema, direction):
            base = auto_schema._map_basic_serializer(self.target, direction)
            if direction != "request":
                return base
            if carries_files:
                return exactly_one_input(base, list(inputs.values()))
            variants = {}
            for kind, processor in sorted(PROCESSORS.items()):
                params = params_component(auto_schema, processor, direction)
                if params is None:
                    continue
                takes = [field for name, field in inputs.items() if name in processor.inputs]
                takes = [field for field in takes if field in base["properties"]]  # JSON takes no file
                objects = [kind_object(base, kind, params, field, list(inputs.values())) for field in takes]
                name = f"{serializer_class.__name__}{kind.title().replace('_', '')}Request"
                schema = objects[0] if len(objects) == 1 else {"oneOf": objects}
                component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
                auto_schema.registry.register_on_missing(component)
                variants[kind] = component.ref
            return {
                "oneOf": list(variants.values()),
                "discriminator": {"propertyName": "kind", "mapping": {k: ref["$ref"] for k, ref in variants.items()}},
                "required": ["kind"],  # so drf-spectacular marks the body required
            }


def kind_object(base: dict, kind: str, params: ResolvedComponent, given: str, input_fields: list[str]) -> dict:
    """A JSON body of `kind` with `given` as its one input and the other inputs forbidden (a JSON
    body has no file field: the other inputs are forbidden whether or not it declares them)."""
    properties = {
        **base["properties"],
        "kind": one_of_values([kind]),
        "params": params.ref,
        **{field: FORBIDDEN for field in input_fields if field != given},
    }
    if properties[given].get("type") == "array":  # a list given may not be empty
        properties[given] = {**properties[given], "minItems": 1}
    required = ["kind", given, *(["params"] if params.schema.get("required") else [])]
    return {"type": "object", "properties": properties, "required": required}


def exactly_one_input(base: dict, takes_any: list[str]) -> dict:
    """A multipart body: every field declared once, `params` a free object, and a oneOf saying
    exactly one input. Not per kind: schemathesis 4.32's coverage and fuzzing phases crash
    ("Unsupported type: 'Binary'") on a oneOf of objects that hold a file, so for now the per-kind
    description is the JSON body's."""
    schema = {**base, "properties": dict(base["properties"])}
    takes_any = [field for field in takes_any if field in schema["properties"]]
    for field in takes_any:
        if schema["properties"][field].get("type") == "array":  # a list given may not be empty
            most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS - (len(schema["properties"]) - 1)
            items = schema["properties"][field]
            schema["properties"][field] = {**items, "minItems": 1, "maxItems": min(items.get("maxItems", most), most)}
    schema["oneOf"] = [{"required": [field]} for field in takes_any]
    return schema
