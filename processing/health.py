"""Health endpoints for load balancers and container health checks; open, and they say nothing
but ok or what is down.

/health/live: the process answers (no dependency is touched).
/health/ready: the database and Redis answer too; 503 naming the one that does not.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from .redis_client import get_redis

logger = logging.getLogger(__name__)


def dependency_problems() -> list[str]:
    """The dependencies that do not answer; empty when all do."""
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("health: the database does not answer")
        problems.append("database")
    try:
        get_redis().ping()
    except Exception:
        logger.exception("health: Redis does not answer")
        problems.append("redis")
    return problems


@require_GET
def live_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def ready_view(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems()
    if problems:
        return JsonResponse({"status": "unavailable", "down": problems}, status=503)
    return JsonResponse({"status": "ok"})
