"""The start-job form's options, described from each processor's params serializer, and the
params dict read back from a posted form. The serializer stays the one judge of validity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.fields import empty

from processing.jobs.kinds import PROCESSORS
from processing.lib.errors import InvalidOptions


@dataclass(frozen=True)
class Option:
    name: str
    field: str  # the form field's name
    input: str  # checkbox | select | number | text | list | json
    label: str
    default: Any = None
    choices: list[str] = field(default_factory=list)
    min: Any = None
    max: Any = None
    step: str = "1"


def _is_structured(f: serializers.Field) -> bool:
    """Objects and lists of objects (a pipeline's steps): typed as JSON."""
    if isinstance(f, serializers.DictField | serializers.JSONField):
        return True
    return isinstance(f, serializers.ListField) and isinstance(f.child, serializers.Serializer | serializers.DictField)


def _option(kind: str, name: str, f: serializers.Field) -> Option:
    label = name.replace("_", " ")
    default = None if f.default is empty else f.default
    key = field_name(kind, name)
    if _is_structured(f):
        return Option(name, key, "json", f"{label} (JSON)")
    if isinstance(f, serializers.BooleanField):
        return Option(name, key, "checkbox", label, bool(default))
    if isinstance(f, serializers.ChoiceField):
        return Option(name, key, "select", label, default, choices=[str(c) for c in f.choices])
    if isinstance(f, serializers.IntegerField | serializers.FloatField):
        step = "1" if isinstance(f, serializers.IntegerField) else "any"
        return Option(name, key, "number", label, default, min=f.min_value, max=f.max_value, step=step)
    if isinstance(f, serializers.ListField):
        return Option(name, key, "list", f"{label} (comma separated)")
    return Option(name, key, "text", label, default)


def kind_options() -> list[dict]:
    kinds = [
        {
            "kind": kind,
            "label": kind.replace("_", " "),
            "options": [_option(kind, n, f) for n, f in p.params().fields.items()],
        }
        for kind, p in sorted(PROCESSORS.items())
        if "record" in p.inputs  # the portal starts work on stored photos
    ]
    return kinds + [{"kind": value, "label": label, "options": []} for value, label in ai_operations()]


# An AI endpoint's preset offered as an operation of its own, e.g. "Analyse label".
AI_OPERATION_LABELS = {"label_analysis": "Analyse label"}
AI_OPERATION_PREFIX = "ai:"


def ai_operations() -> list[tuple[str, str]]:
    """(value, label) of each configured endpoint whose preset is an operation."""
    offered = [
        (name, AI_OPERATION_LABELS[config["preset"]])
        for name, config in sorted(settings.AI_ENDPOINTS.items())
        if isinstance(config, dict) and config.get("preset") in AI_OPERATION_LABELS
    ]
    several = len(offered) > 1
    return [(f"{AI_OPERATION_PREFIX}{name}", f"{label} ({name})" if several else label) for name, label in offered]


def image_generators() -> list[str]:
    """The endpoints that make an image from a prompt: OpenAI's Images API, or any entry that
    says so ("generates": true)."""
    return [
        name
        for name, config in sorted(settings.AI_ENDPOINTS.items())
        if isinstance(config, dict) and (config.get("api") == "images" or config.get("generates"))
    ]


def operation_kind_and_params(operation: str, data) -> tuple[str, dict[str, Any]]:
    """The kind and params an operation of the start form stands for: a kind with the options
    filled in, or an AI preset's endpoint (`ai:<endpoint>`) as an ai_endpoint job."""
    if operation.startswith(AI_OPERATION_PREFIX):
        return "ai_endpoint", {"endpoint": operation.removeprefix(AI_OPERATION_PREFIX)}
    return operation, params_from_post(operation, data)


def field_name(kind: str, option: str) -> str:
    return f"p-{kind}-{option}"


def params_from_post(kind: str, data) -> dict[str, Any]:
    """Only what the user filled in; the serializer fills the defaults."""
    processor = PROCESSORS.get(kind)
    if processor is None:
        return {}
    params: dict[str, Any] = {}
    for name, f in processor.params().fields.items():
        key = field_name(kind, name)
        if isinstance(f, serializers.BooleanField):
            params[name] = key in data
            continue
        raw = (data.get(key) or "").strip()
        if not raw:
            continue
        if _is_structured(f):
            try:
                params[name] = json.loads(raw)
            except ValueError:
                raise InvalidOptions(f"params.{name}: not valid JSON") from None
        elif isinstance(f, serializers.ListField):
            params[name] = [part.strip() for part in raw.split(",")]
        else:
            params[name] = raw
    return params
