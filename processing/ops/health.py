"""Health endpoints for load balancers and container health checks; open, and they say nothing
but ok or what is down.

/health/live: the process answers (no dependency is touched).
/health/ready: the database and Redis answer too; 503 naming the one that does not.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from processing.ops.health_report import database_ok, redis_and_workers


def dependency_problems() -> list[str]:
    """The dependencies that do not answer; empty when all do."""
    redis_up, _ = redis_and_workers()
    return [name for name, ok in (("database", database_ok()), ("redis", redis_up)) if not ok]


@require_GET
def live_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def ready_view(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems()
    if problems:
        return JsonResponse({"status": "unavailable", "down": problems}, status=503)
    return JsonResponse({"status": "ok"})
