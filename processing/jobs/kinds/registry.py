"""The kinds by name. The package (kinds/__init__.py) fills it once from DARKROOM_PROCESSORS;
a kind that runs other kinds (pipeline) looks them up here, so it never imports the package
that loads it."""

from processing.jobs.kinds.base import Processor
from processing.lib.errors import InvalidOptions

PROCESSORS: dict[str, Processor] = {}


def get_processor(kind: str) -> Processor:
    try:
        return PROCESSORS[kind]
    except KeyError:
        raise InvalidOptions(f"kind must be one of {sorted(PROCESSORS)}, not {kind!r}", code="invalid_kind") from None
