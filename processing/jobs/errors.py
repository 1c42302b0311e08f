"""Failures a job can end with: the library's errors, named for what they mean to a job.
Permanent ones are never retried; the code is shown to clients."""

from processing.lib.errors import ImageTooLarge, InvalidImage, ModelMissing, NoFaceFound, RefusedAddress
from processing.lib.errors import InvalidOptions as InvalidParams
from processing.lib.errors import PermanentError as PermanentJobError
from processing.lib.errors import ProcessingError as JobError
from processing.lib.errors import TemporaryError as RetryableJobError

__all__ = [
    "ImageTooLarge",
    "InvalidImage",
    "InvalidParams",
    "JobError",
    "ModelMissing",
    "NoFaceFound",
    "PermanentJobError",
    "RefusedAddress",
    "RetryableJobError",
]
