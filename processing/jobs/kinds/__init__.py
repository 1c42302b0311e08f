"""The registry of processing kinds. A new kind is one module with a PROCESSOR, named in
the DARKROOM_PROCESSORS setting."""

from django.conf import settings
from django.utils.module_loading import import_string

from processing.jobs.kinds.base import InputLimits, Processor
from processing.jobs.kinds.registry import PROCESSORS, get_processor


def _load() -> dict[str, Processor]:
    processors = [import_string(f"{path}.PROCESSOR") for path in settings.DARKROOM_PROCESSORS]
    return {p.kind: p for p in processors}


PROCESSORS.update(_load())


def queue_capacity(kind: str) -> int:
    """How many jobs of `kind` may be handed to Dramatiq and unfinished at once (admission)."""
    return int(settings.JOB_QUEUE_CAPACITY.get(kind, settings.JOB_QUEUE_CAPACITY_DEFAULT))


__all__ = ["PROCESSORS", "InputLimits", "Processor", "get_processor", "queue_capacity"]
