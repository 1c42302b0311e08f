"""Failures a job can end with: the library's errors, named for what they mean to a job.
Permanent ones are never retried; the code is shown to clients."""

from processing.lib.errors import (
    ImageTooLarge,
    InvalidImage,
    ModelMissing,
    NoFaceFound,
    RefusedAddress,
    StorageUnavailable,
)
from processing.lib.errors import InvalidOptions as InvalidParams
from processing.lib.errors import PermanentError as PermanentJobError
from processing.lib.errors import ProcessingError as JobError
from processing.lib.errors import TemporaryError as RetryableJobError

# What a vendor reads for failures whose own message is about our inside (addresses, servers,
# exception text); operators read the detail in the logs (with job id and vendor) and the admin.
PUBLIC_REASONS = {
    "internal_error": "an internal error stopped this attempt; it is tried again",
    "temporary_failure": "a temporary failure stopped this attempt",
    "url_refused": "the URL's host does not exist or points at an address jobs may not reach",
    "url_unreachable": "the URL's server could not be reached",
    "url_unresolvable": "the URL's host name could not be resolved",
    "rembg_failed": "background removal failed",
    "rembg_unavailable": "background removal is unavailable for now",
    "model_missing": "the model for this job is not installed here; operators have been told",
    "provider_unavailable": "the model for this job cannot run here; operators have been told",
    "storage_unavailable": "the result storage is unavailable for now; the job waits and tries again",
}


# A fault on our side that another attempt would meet again ends the job at once (a bug is not
# an outage: engine/runner.py tells them apart), and the vendor reads that it is ours.
INTERNAL_FAULT_REASON = (
    "Darkroom could not process this image because of a fault on our side; "
    "operators have been told, and its charge was given back"
)

# Failures on our side, not the vendor's: a job that ends failed with one of these is not
# charged (processing/jobs/refunds.py; the rule is in docs/errors.md).
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


class InternalFault(PermanentJobError):
    """An unforeseen fault on our side that retrying would not mend."""

    code = "internal_error"


def public_message(error: JobError) -> str:
    """The reason a vendor is shown for `error`: per code where its message may tell too much."""
    if isinstance(error, InternalFault):
        return INTERNAL_FAULT_REASON
    return PUBLIC_REASONS.get(error.code, error.message)


__all__ = [
    "PUBLIC_REASONS",
    "INTERNAL_FAULT_REASON",
    "OUR_SIDE",
    "ImageTooLarge",
    "InternalFault",
    "InvalidImage",
    "InvalidParams",
    "JobError",
    "ModelMissing",
    "NoFaceFound",
    "PermanentJobError",
    "RefusedAddress",
    "RetryableJobError",
    "StorageUnavailable",
    "public_message",
]
