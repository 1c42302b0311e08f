"""Which exceptions mean a service Darkroom depends on is away (an outage to wait out, answered
503 with Retry-After), as opposed to a bug (500): Redis unreachable or timing out, MySQL refusing
or dropping the connection, out of connections, or a web process's connection pool exhausted
(every pooled connection busy for DATABASE_POOL_TIMEOUT_S: overload, also worth a retry later).
And, for the workers, which mean the media storage is full or unreachable (a job waits for it
rather than failing)."""

from __future__ import annotations

import errno

import redis
from django.db import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout  # django-db-connection-pool's pool is SQLAlchemy's

# 2002/2003: can't connect (socket / TCP), 2006: server gone away, 2013: lost connection during a
# query, 1040: too many connections, 1053: server shutdown in progress.
DATABASE_DOWN_CODES = frozenset({1040, 1053, 2002, 2003, 2006, 2013})


def outage_of(exc: BaseException | None) -> str | None:
    """ "database" or "redis" when `exc` (or an exception it was raised from) says that service is
    unreachable; None otherwise."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            return "redis"
        if isinstance(exc, OperationalError) and exc.args and exc.args[0] in DATABASE_DOWN_CODES:
            return "database"
        if isinstance(exc, InterfaceError | PoolTimeout):  # closed under Django; or no pooled one free
            return "database"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


# The local file system's "full or unreachable": no space, over quota, an I/O error, mounted
# read-only, permission taken away (chmod, an immutable folder), a network mount gone away. Not
# ENOENT or EISDIR, which name a bug or a missing input rather than a storage that is down.
STORAGE_DOWN_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES", "EPERM", "ESTALE", "ENOTCONN", "ETIMEDOUT", "EHOSTDOWN")
    if hasattr(errno, name)
)
# What S3 answers when it (not the request) is at fault, besides any 5xx.
S3_DOWN_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"})


def storage_fault(exc: BaseException | None) -> str | None:
    """A short reason when `exc` (or an exception it was raised from) says the media storage is
    full or unreachable — an outage to wait out, not a failure of the job: an OSError of the local
    file system in STORAGE_DOWN_ERRNOS; for S3 (botocore), a connection error, a timeout or a 5xx;
    for Cloudinary, a connection error, a 500 or a rate limit. None otherwise."""
    seen = 0
    while exc is not None and seen < 10:
        reason = _storage_fault_of(exc)
        if reason:
            return reason
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _storage_fault_of(exc: BaseException) -> str | None:
    module = type(exc).__module__ or ""
    if module.startswith("botocore"):
        response = getattr(exc, "response", None)
        if isinstance(response, dict):  # ClientError: the service answered
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            code = response.get("Error", {}).get("Code", "")
            return f"S3 answered {status} {code}".strip() if status >= 500 or code in S3_DOWN_CODES else None
        names = {cls.__name__ for cls in type(exc).__mro__}
        if names & {"ConnectionError", "HTTPClientError", "ConnectTimeoutError", "ReadTimeoutError"}:
            return f"S3 unreachable: {type(exc).__name__}"
        return None
    if module.startswith("cloudinary"):
        name = type(exc).__name__
        if name in {"GeneralError", "RateLimited"}:
            return f"Cloudinary answered {name}"
        text = str(exc)
        if text.startswith(("Unexpected error", "Socket error", "Error parsing server response (5")):
            return f"Cloudinary unreachable: {text[:80]}"
        return None
    if isinstance(exc, OSError) and exc.errno is not None and exc.errno in STORAGE_DOWN_ERRNOS:
        return f"{errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror or exc}"
    return None
