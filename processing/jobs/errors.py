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
    "internal_error": "an internal error stopped this attempt; operators have the details",
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


def public_message(error: JobError) -> str:
    """The reason a vendor is shown for `error`: per code where its message may tell too much."""
    return PUBLIC_REASONS.get(error.code, error.message)


__all__ = [
    "PUBLIC_REASONS",
    "ImageTooLarge",
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
