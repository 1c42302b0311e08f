"""The library's own failures. Each carries a stable `code` (shown to clients) and whether
retrying can help; callers above decide what a failure means for them.

`message` may be shown to the client; `detail` is for operators only (logs, the admin): the
resolved address, a server's answer, an exception's text. It defaults to the message."""


class ProcessingError(Exception):
    code = "processing_error"
    retryable = False
    # What an outside AI service counted for calls it answered before this failure (the same shape
    # as ImageOutput.usage): they cost money even though the attempt failed.
    ai_usage: dict | None = None

    def __init__(self, message: str, *, code: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        if code:
            self.code = code


class PermanentError(ProcessingError):
    """Retrying cannot help: bad input, bad options, nothing to find."""


class InvalidImage(PermanentError):
    code = "invalid_image"


class ImageTooLarge(PermanentError):
    code = "image_too_large"


class NoFaceFound(PermanentError):
    code = "no_face_found"


class InvalidOptions(PermanentError):
    code = "invalid_params"


class ModelMissing(PermanentError):
    """The rembg model file is not on this machine; `manage.py fetch_models` puts it there."""

    code = "model_missing"


class ProviderUnavailable(PermanentError):
    """An onnxruntime execution provider asked for (REMBG_PROVIDERS) cannot run here."""

    code = "provider_unavailable"


class RefusedAddress(InvalidOptions):
    """An outbound request would reach a private, loopback or otherwise non-public address."""

    code = "url_refused"


class TemporaryError(ProcessingError):
    """A passing fault: a remote endpoint down, a timeout. Worth retrying later."""

    code = "temporary_failure"
    retryable = True

    def __init__(
        self, message: str, *, code: str | None = None, retry_after_s: float | None = None, detail: str | None = None
    ):
        super().__init__(message, code=code, detail=detail)
        # When the far side said how long to wait (HTTP 429 Retry-After, an open circuit).
        self.retry_after_s = retry_after_s


class StorageUnavailable(TemporaryError):
    """The media storage is full or unreachable (a full disk, a read-only or vanished mount, S3 or
    Cloudinary down): an outage to wait out. A job waits for it without using up its attempts."""

    code = "storage_unavailable"
