"""A JSON API takes JSON types: `params` values must have the type the kind's schema states.
The kinds' serializers also take the portal's form values ("3", "on"), so this strictness is the
API's own, checked before the kind's validation."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from processing.jobs.kinds import PROCESSORS
from processing.jobs.kinds.pipeline import StepParams

JSON_TYPES: tuple[tuple[type, str, tuple[type, ...]], ...] = (
    (serializers.BooleanField, "a boolean", (bool,)),
    (serializers.IntegerField, "an integer", (int,)),
    (serializers.FloatField, "a number", (int, float)),
    (serializers.ChoiceField, "a string", (str,)),
    (serializers.CharField, "a string", (str,)),
    (serializers.ListField, "an array", (list,)),
    (serializers.DictField, "an object", (dict,)),
    (serializers.Serializer, "an object", (dict,)),
)


def params_type_error(kind: str, params: dict[str, Any]) -> str | None:
    """The first params value whose JSON type is not its field's, as a message; None if all fit."""
    processor = PROCESSORS.get(kind)
    return _fields_error(processor.params().fields, params, "params") if processor else None


def _fields_error(fields, values: dict[str, Any], path: str) -> str | None:
    for name, value in values.items():
        if name in fields and (error := _value_error(fields[name], value, f"{path}.{name}")):
            return error
    return None


def _value_error(field, value: Any, path: str) -> str | None:
    if value is None:
        return None  # the field's own allow_null decides
    for field_class, described, python_types in JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in python_types or not isinstance(value, python_types):
                return f"{path}: must be {described}"
            break
    if isinstance(field, serializers.ListField):
        return next(
            filter(None, (_value_error(field.child, item, f"{path}[{i}]") for i, item in enumerate(value))), None
        )
    if isinstance(field, StepParams):  # a step's params are those of the step's kind
        error = _fields_error(field.fields, value, path)
        if error or not isinstance(value.get("kind"), str) or not isinstance(value.get("params"), dict):
            return error
        error = params_type_error(value["kind"], value["params"])
        return error and f"{path}.{error}"
    if isinstance(field, serializers.Serializer):
        return _fields_error(field.fields, value, path)
    return None
