"""django_dramatiq's DbConnectionsMiddleware without a ping for every message.

Django's close_old_connections() asks, with CONN_HEALTH_CHECKS, for a health check (a round trip)
before the next query: once per message, the cost of a short job's statement. Here a connection
that served a message less than IDLE_S ago is taken as healthy; one idle for longer, or after an
error, is checked as Django checks it, and one past CONN_MAX_AGE is closed. A connection the
server dropped within IDLE_S is met by the compare-and-set that opens every run
(retried_when_transient reopens it)."""

from __future__ import annotations

import time

from django import db
from django_dramatiq.middleware import DbConnectionsMiddleware

IDLE_S = 5.0


class DbConnections(DbConnectionsMiddleware):
    def before_process_message(self, broker, message) -> None:
        now = time.monotonic()
        for conn in db.connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
            if conn.connection is not None and now - getattr(conn, "darkroom_served_at", 0.0) < IDLE_S:
                setattr(conn, "health_check_done", True)  # noqa: B010  (Django's own flag, untyped in the stubs)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        now = time.monotonic()
        for conn in db.connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
            if conn.connection is not None and not conn.errors_occurred:
                setattr(conn, "darkroom_served_at", now)  # noqa: B010

    after_skip_message = after_process_message
