"""Which exceptions mean a service Darkroom depends on is away (an outage to wait out, answered
503 with Retry-After), as opposed to a bug (500): Redis unreachable or timing out, MySQL refusing
or dropping the connection, out of connections, or a web process's connection pool exhausted
(every pooled connection busy for DATABASE_POOL_TIMEOUT_S: overload, also worth a retry later)."""

from __future__ import annotations

import redis
from django.db import InterfaceError, OperationalError

try:  # the web processes' pool (django-db-connection-pool) is SQLAlchemy's QueuePool
    from sqlalchemy.exc import TimeoutError as PoolTimeout
except ImportError:  # pragma: no cover - only without the pool installed

    class PoolTimeout(Exception):
        pass


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
