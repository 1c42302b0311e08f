"""What every processor declares, so that a new kind is one small module and a registry entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from rest_framework import serializers

from processing.jobs.errors import InvalidParams
from processing.lib.imaging.output import ImageOutput


class Limits(Protocol):
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class InputLimits:
    max_bytes: int
    max_pixels: int


class Runner(Protocol):
    def __call__(self, data: bytes, params: dict[str, Any], *, limits: Limits) -> ImageOutput: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    # Backoff before attempt n+1 is base_s * 2**(n-1), with jitter: ~5 s, 10 s, 20 s.
    base_s: float = 5.0
    max_s: float = 300.0


@dataclass(frozen=True)
class Processor:
    kind: str
    queue: str
    params: type[serializers.Serializer]
    run: Runner
    inputs: frozenset[str] = frozenset({"record", "upload", "url"})
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def clean_params(self, raw: dict[str, Any] | None) -> dict[str, Any]:
        """Validated params with defaults filled in; InvalidParams naming the field otherwise."""
        serializer = self.params(data=raw or {})
        if not serializer.is_valid():
            field_name, errors = next(iter(serializer.errors.items()))
            message = errors[0] if isinstance(errors, list) else str(errors)
            raise InvalidParams(f"params.{field_name}: {message}")
        return dict(serializer.validated_data)


IMAGE_FORMATS = ("png", "jpeg", "webp")
