"""JSON bodies bounded before they are parsed. DRF's JSONParser reads a whole body (up to
REQUEST_MAX_BYTES, ~101 MiB) and builds every object it describes: `[[],[],…]` turns 3 bytes
into ~64 bytes of lists, and deep nesting ends in a RecursionError (a 500). This one refuses
a body over JSON_BODY_MAX_BYTES with 413 before reading it (Content-Length) or once it has read
one byte more (a chunked body), a body with more than JSON_MAX_ITEMS values or containers with
400 before parsing it, and nesting deeper than JSON_MAX_DEPTH with 400. Under ASGI
(config/asgi.py) the body limit is also applied before Django reads the body at all."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant

# Every value after the first follows a `,` or a `:`, and every container opens with `[` or `{`:
# their count bounds what parsing builds. Counted in the raw bytes (inside strings too), so it
# can only overestimate; the largest legitimate bodies (a bulk of 1,000 URLs, 16 KB of params)
# stay far below the default.
_ITEM_BYTES = (b",", b":", b"[", b"{")


class JsonTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _too_large(limit: int) -> JsonTooLarge:
    return JsonTooLarge(f"a JSON body is at most {limit} bytes", code="too_large")


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        limit = settings.JSON_BODY_MAX_BYTES
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
        if str(declared).isdigit() and int(declared) > limit:
            raise _too_large(limit)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise _too_large(limit)
        items = sum(body.count(mark) for mark in _ITEM_BYTES)
        if items > settings.JSON_MAX_ITEMS:
            raise exceptions.ParseError(
                f"a JSON body holds at most {settings.JSON_MAX_ITEMS} values", code="json_too_complex"
            )
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
            constant = strict_constant if api_settings.STRICT_JSON else None
            data = json.loads(text, parse_constant=constant)
        except RecursionError:
            raise _too_deep() from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if _deeper_than(data, settings.JSON_MAX_DEPTH):
            raise _too_deep()
        return data


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(
        f"a JSON body nests at most {settings.JSON_MAX_DEPTH} levels deep", code="json_too_deep"
    )


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` deep; without recursion, over containers only."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
