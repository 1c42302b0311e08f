"""Darkroom's errors. Each class carries its answer: a stable `code` (shown to clients), the HTTP
`status` a request refused with it gets, the request `field` it is about, and, for the library's
failures, whether retrying can help and the `reason` a vendor reads when a job ends with it.
processing/lib/problems.py turns any of them into the RFC 9457 answer, for the API and the portal.

`field` and `reason` belong to a code: a subclass that names its own code, or a raise that gives
`code=`, does not inherit them (a `TemporaryError(code="busy")` is not "a temporary failure"); the
status belongs to the family and is inherited.

`message` may be shown to the client; `detail` is for operators only (logs, the admin): the
resolved address, a server's answer, an exception's text. It defaults to the message."""

from __future__ import annotations

from typing import Any, ClassVar


class DarkroomError(Exception):
    """An error a request can be answered with (processing/lib/problems.py)."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    field: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "code" in own:
            for name in ("field", "reason"):
                if name not in own and hasattr(cls, name):
                    setattr(cls, name, None)

    @property
    def public_detail(self) -> str:
        """What the caller reads."""
        return str(self)

    def problem_extensions(self) -> dict[str, Any]:
        """Members the answer carries beside the standard ones."""
        return {}

    def problem_headers(self) -> dict[str, str]:
        return {}


class ProcessingError(DarkroomError):
    code = "processing_error"
    retryable: ClassVar[bool] = False
    # What a vendor reads when a job ends with this error, where the message may tell too much
    # (addresses, servers, exception text); None: the message.
    reason: str | None = None
    # What an outside AI service counted for calls it answered before this failure (the same shape
    # as ImageOutput.usage): they cost money even though the attempt failed.
    ai_usage: dict[str, Any] | None = None

    def __init__(self, message: str, *, code: str | None = None, detail: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        if code and code != type(self).code:
            self.code = code  # type: ignore[misc]  # a code given when raising: see the module's docstring
            self.field, self.reason = None, None
        if field:
            self.field = field

    @property
    def public_detail(self) -> str:
        return self.message

    @property
    def public_reason(self) -> str:
        return self.reason or self.message


class PermanentError(ProcessingError):
    """Retrying cannot help: bad input, bad options, nothing to find."""


class InvalidImage(PermanentError):
    code = "invalid_image"


class UnsupportedImage(InvalidImage):
    """An upload whose bytes are not an image type Darkroom accepts."""

    code = "unsupported_image"
    field = "image"


class ImageTooLarge(PermanentError):
    code = "image_too_large"
    field = "image"


class NoFaceFound(PermanentError):
    code = "no_face_found"


class InvalidOptions(PermanentError):
    code = "invalid_params"
    field = "params"


class InvalidUrl(InvalidOptions):
    """Not a URL Darkroom calls: its syntax, scheme, host or credentials. `field` is the caller's."""

    code = "invalid_url"


class OverLimit(InvalidOptions):
    """A well-formed request that what exists does not allow, such as one over a count limit."""

    status = 409


class ModelMissing(PermanentError):
    """The rembg model file is not on this machine; `manage.py fetch_models` puts it there."""

    code = "model_missing"
    reason = "the model for this job is not installed here; operators have been told"


class ProviderUnavailable(PermanentError):
    """An onnxruntime execution provider asked for (REMBG_PROVIDERS) cannot run here."""

    code = "provider_unavailable"
    reason = "the model for this job cannot run here; operators have been told"


class RembgFailed(PermanentError):
    code = "rembg_failed"
    reason = "background removal failed"


class RefusedAddress(InvalidOptions):
    """An outbound request would reach a private, loopback or otherwise non-public address. A
    well-formed URL that Darkroom will not call: a refusal by policy, not a malformed request."""

    code = "url_refused"
    status = 403
    reason = "the URL's host does not exist or points at an address jobs may not reach"


class PortRefused(RefusedAddress):
    """An outbound request to a port the address policy does not allow."""

    code = "port_refused"


class TemporaryError(ProcessingError):
    """A passing fault: a remote endpoint down, a timeout. Worth retrying later."""

    code = "temporary_failure"
    retryable = True
    reason = "a temporary failure stopped this attempt"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after_s: float | None = None,
        detail: str | None = None,
    ):
        super().__init__(message, code=code, detail=detail)
        # When the far side said how long to wait (HTTP 429 Retry-After, an open circuit).
        self.retry_after_s = retry_after_s


class UrlUnreachable(TemporaryError):
    code = "url_unreachable"
    reason = "the URL's server could not be reached"


class UrlUnresolvable(TemporaryError):
    code = "url_unresolvable"
    reason = "the URL's host name could not be resolved"


class RembgUnavailable(TemporaryError):
    code = "rembg_unavailable"
    reason = "background removal is unavailable for now"


class InternalError(TemporaryError):
    """An unexpected exception in a run: another attempt may not meet it."""

    code = "internal_error"
    reason = "an internal error stopped this attempt; it is tried again"


class StorageUnavailable(TemporaryError):
    """The media storage is full or unreachable (a full disk, a read-only or vanished mount, S3 or
    Cloudinary down): an outage to wait out. A job waits for it without using up its attempts."""

    code = "storage_unavailable"
    reason = "the result storage is unavailable for now; the job waits and tries again"
