"""What every processor declares, so that a new kind is one small module and a registry entry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rest_framework import serializers

from processing.lib.errors import InvalidOptions
from processing.lib.imaging.output import ImageOutput


class Limits(Protocol):
    @property
    def max_bytes(self) -> int: ...

    @property
    def max_pixels(self) -> int: ...


@dataclass(frozen=True)
class InputLimits:
    max_bytes: int
    max_pixels: int


class Progress(Protocol):
    """How a run reports where it is (engine/runner.py writes it at most every few seconds)."""

    def __call__(self, stage: str, percent: int, message: str = "") -> None: ...


class Runner(Protocol):
    def __call__(self, data: bytes, params: dict[str, Any], *, limits: Limits, progress: Progress) -> ImageOutput: ...


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
    # Whether a pipeline may run this kind as one of its steps.
    chainable: bool = True

    def clean_params(self, raw: dict[str, Any] | None) -> dict[str, Any]:
        """Validated params with defaults filled in; InvalidOptions naming the field otherwise."""
        serializer = self.params(data=raw or {})
        if not serializer.is_valid():
            field_name, errors = next(iter(serializer.errors.items()))
            message = errors[0] if isinstance(errors, list) else str(errors)
            raise InvalidOptions(f"params.{field_name}: {message}")
        return dict(serializer.validated_data)


IMAGE_FORMATS = ("png", "jpeg", "webp")


class OfferedChoiceField(serializers.ChoiceField):
    """One of what this deployment offers (`offered()`, read from the settings when asked), so
    validation and the API schema always name the same values."""

    def __init__(self, offered: Callable[[], Iterable[str]], **kwargs: Any) -> None:
        self.offered = offered
        super().__init__(choices=[], **kwargs)

    # Read only when a value is checked or the schema is built: offered() may be costly.
    @property
    def choices(self) -> dict[str, str]:
        return {value: value for value in self.offered()}

    @choices.setter
    def choices(self, _ignored: object) -> None:
        pass

    def to_internal_value(self, data: Any) -> str:
        offered = list(self.choices)
        if not isinstance(data, str) or data not in offered:
            raise serializers.ValidationError(f"{self.field_name} must be one of {offered}", code="invalid_choice")
        return data


class OfferedSwitch(serializers.BooleanField):
    """A switch that can be turned on only where `offered()` says the feature is installed."""

    def __init__(self, offered: Callable[[], bool], unavailable: str, **kwargs: Any) -> None:
        self.offered = offered
        self.unavailable = unavailable
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bool:
        value: bool = super().to_internal_value(data)
        if value and not self.offered():
            raise serializers.ValidationError(self.unavailable, code="unavailable")
        return value


@dataclass(frozen=True)
class RequiredWhen:
    """`fields` must be given (and not null) when `field` is one of `values`."""

    field: str
    values: tuple[str, ...]
    fields: tuple[str, ...]


class KindParams(serializers.Serializer):
    """A kind's params. `required_when` rules are checked after the fields; the API schema states them too."""

    required_when: tuple[RequiredWhen, ...] = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for rule in self.required_when:
            value = attrs.get(rule.field, self.fields[rule.field].default)
            missing = [name for name in rule.fields if attrs.get(name) is None]
            if value in rule.values and missing:
                raise serializers.ValidationError(
                    {missing[0]: f"{rule.field} {value} needs {' and '.join(rule.fields)}"}, code="required"
                )
        return attrs
