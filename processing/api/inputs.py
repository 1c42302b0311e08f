"""A request body read the same way whatever its content type, with the types the schema states."""

from __future__ import annotations

from functools import cache
from typing import Any

from rest_framework import serializers
from rest_framework.utils import html

from processing.api.serializers import JSONObjectField

# The JSON type each kind of field takes in a JSON body. DRF coerces (0 to "0", "5" to 5, "yes" to
# true) because the same serializers read forms, where everything is text; the schema promises
# these types, so a JSON body gets them.
JSON_TYPES: tuple[tuple[type, str, tuple[type, ...]], ...] = (
    (serializers.BooleanField, "a boolean", (bool,)),
    (serializers.IntegerField, "an integer", (int,)),
    (serializers.FloatField, "a number", (int, float)),
    (serializers.CharField, "a string", (str,)),
    (serializers.ChoiceField, "a string", (str,)),
    (serializers.ListField, "an array", (list,)),
    (serializers.DictField, "an object", (dict,)),
    (JSONObjectField, "an object", (dict,)),  # a form sends it as text; JSON as an object
)


def valid_input(serializer_class: type[serializers.Serializer], request) -> dict:
    """The body validated by `serializer_class` (a 400 naming the field otherwise).

    DRF reads a form field sent empty as "not given", as HTML forms send every field, so a
    multipart `name=` would quietly take the default where the same JSON body is refused. The API
    is not an HTML form: a multipart or urlencoded body is read as a plain mapping, like JSON, so an
    empty value is validated as a value. Repeated parts stay lists for the list fields. The
    serializer's context says `form` when it was one."""
    data = request.data
    fields = _fields(serializer_class)
    form = html.is_html_input(data)
    if form:
        lists = {name for name, field in fields.items() if isinstance(field, serializers.ListField)}
        data = {name: values if name in lists else values[-1] for name, values in data.lists()}
    elif isinstance(data, dict):
        for name, value in data.items():
            if name in fields and (error := json_type_error(fields[name], value)):
                raise serializers.ValidationError({name: [error]})
    serializer = serializer_class(data=data, context={"form": form})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@cache
def _fields(serializer_class: type[serializers.Serializer]) -> dict[str, serializers.Field]:
    """The serializer's fields, built once: only their kinds are read here, never their state."""
    return dict(serializer_class().fields)


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """Why `value` is not of the JSON type `field` takes, or None. Null is the field's to judge."""
    if value is None:
        return None
    for field_class, described, python_types in JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in python_types or not isinstance(value, python_types):
                return f"must be {described}"
            break
    if isinstance(field, serializers.ListField):
        return next(filter(None, (json_type_error(field.child, item) for item in value)), None)
    return None


def valid_query(serializer_class: type[serializers.Serializer], request) -> dict:
    """The query string validated by `serializer_class` (a 400 naming the parameter otherwise);
    a parameter given empty is validated as a value, not taken as absent."""
    serializer = serializer_class(data={name: values[-1] for name, values in request.query_params.lists()})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
