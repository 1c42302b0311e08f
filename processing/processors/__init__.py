"""The registry of processing kinds. A new kind: one module with a PROCESSOR, one line here."""

from processing.errors import InvalidParams

from . import face_crop, remove_bg, transform
from .base import InputLimits, Processor

PROCESSORS: dict[str, Processor] = {
    p.kind: p for p in (remove_bg.PROCESSOR, face_crop.PROCESSOR, transform.PROCESSOR)
}


def get_processor(kind: str) -> Processor:
    try:
        return PROCESSORS[kind]
    except KeyError:
        raise InvalidParams(
            f"kind must be one of {sorted(PROCESSORS)}, not {kind!r}",
            code="invalid_kind",
        ) from None


__all__ = ["PROCESSORS", "InputLimits", "Processor", "get_processor"]
