"""Failures a job can end with. Permanent ones are never retried; the code is shown to clients."""


class JobError(Exception):
    code = "processing_error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class PermanentJobError(JobError):
    """Retrying cannot help: bad input, bad parameters, nothing to find."""


class InvalidImage(PermanentJobError):
    code = "invalid_image"


class ImageTooLarge(PermanentJobError):
    code = "image_too_large"


class NoFaceFound(PermanentJobError):
    code = "no_face_found"


class InvalidParams(PermanentJobError):
    code = "invalid_params"


class ModelMissing(PermanentJobError):
    """The rembg model file is not on this worker; `manage.py fetch_models` puts it there."""

    code = "model_missing"


class RetryableJobError(JobError):
    """A passing fault: a remote endpoint down, a timeout. Retried with backoff."""

    code = "temporary_failure"
    retryable = True

    def __init__(self, message: str, *, code: str | None = None, retry_after_s: float | None = None):
        super().__init__(message, code=code)
        # When the far side said how long to wait (HTTP 429 Retry-After, an open circuit).
        self.retry_after_s = retry_after_s
