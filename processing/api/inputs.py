"""A request body read the same way whatever its content type."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.utils import html


def valid_input(serializer_class: type[serializers.Serializer], request) -> dict:
    """The body validated by `serializer_class` (a 400 naming the field otherwise).

    DRF reads a form field sent empty as "not given", as HTML forms send every field, so a
    multipart `name=` would quietly take the default where the same JSON body is refused. The API
    is not an HTML form: a multipart or urlencoded body is read as a plain mapping, like JSON, so an
    empty value is validated as a value. Repeated parts stay lists for the list fields."""
    data = request.data
    if html.is_html_input(data):
        fields = serializer_class().fields
        lists = {name for name, field in fields.items() if isinstance(field, serializers.ListField)}
        data = {name: values if name in lists else values[-1] for name, values in data.lists()}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
