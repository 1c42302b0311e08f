"""Failures of the jobs core beside the library's (processing/lib/errors.py, which says what an
error carries): permanent ones are never retried; the code is shown to clients."""

from processing.lib.errors import InvalidOptions, PermanentError, ProcessingError

# A fault on our side that another attempt would meet again ends the job at once (a bug is not
# an outage: engine/runner.py tells them apart), and the vendor reads that it is ours.
INTERNAL_FAULT_REASON = (
    "Darkroom could not process this image because of a fault on our side; "
    "operators have been told, and its charge was given back"
)

# Failures on our side, not the vendor's: a job that ends failed with one of these codes (as
# stored on the row) is not charged (processing/jobs/refunds.py; the rule is in docs/errors.md).
OUR_SIDE = frozenset(
    {
        "internal_error",
        "time_limit",
        "temporary_failure",
        "storage_unavailable",
        "model_missing",
        "provider_unavailable",
        "rembg_failed",
        "rembg_unavailable",
    }
)


class InternalFault(PermanentError):
    """An unforeseen fault on our side that retrying would not mend."""

    code = "internal_error"
    reason = INTERNAL_FAULT_REASON


class NotFound(InvalidOptions):
    """Something the request names (a record) that the vendor does not have."""

    code = "not_found"
    status = 404


class InvalidInput(InvalidOptions):
    """Not exactly one input, or one the kind does not take."""

    code = "invalid_input"


class InvalidPriority(InvalidOptions):
    code = "invalid_priority"
    field = "priority"


class ParamsTooLarge(InvalidOptions):
    code = "params_too_large"
    field = "params"


class EmptyUpload(InvalidOptions):
    code = "empty_upload"
    field = "image"


def public_message(error: ProcessingError) -> str:
    """The reason a vendor is shown for `error`: the class's where its message may tell too much."""
    return error.public_reason
