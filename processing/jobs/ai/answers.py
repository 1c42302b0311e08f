"""Structured answers: the JSON Schema a job asks for (bounded, checked before the job exists)
and the check of what the provider answered."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from processing.lib.errors import InvalidOptions

# A schema travels to the provider with every call and is stored with the job.
SCHEMA_MAX_BYTES = 16 * 1024


def check_schema(schema: Any) -> dict:
    """A JSON Schema for the answer: an object schema (what a tool's input_schema must be) of at
    most SCHEMA_MAX_BYTES; InvalidOptions naming what is wrong."""
    if not isinstance(schema, dict):
        raise InvalidOptions("must be a JSON Schema object")
    if len(json.dumps(schema)) > SCHEMA_MAX_BYTES:
        raise InvalidOptions(f"must be at most {SCHEMA_MAX_BYTES} bytes of JSON")
    if schema.get("type") != "object":
        raise InvalidOptions('must describe an object ("type": "object")')
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidOptions(f"is not a valid JSON Schema: {exc.message[:200]}") from None
    return schema


def answer_problem(answer: Any, schema: dict | None) -> str | None:
    """Why the answer does not match the schema (where, and what), or None when it does."""
    if schema is None:
        return None
    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(answer), key=lambda e: e.path)), None)
    if error is None:
        return None
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"at {where}: {error.message[:200]}"
