"""GET /health/: what an operator checks first. Open to anyone, so it names parts and counts,
never addresses, paths or secrets.

200 while the database and Redis answer (with `degraded` when no worker was seen lately or the
rembg model file is missing, which stop jobs but not the API); 503 when either is down.
processing/ops/health.py keeps the bare /health/live and /health/ready probes for load balancers.
"""

from __future__ import annotations

import logging
import time

import dramatiq
import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from processing.engine.registry import worker_list
from processing.lib.redis import get_redis

logger = logging.getLogger(__name__)

# A consuming worker beats every DRAMATIQ_WORKER_TIMEOUT_MS; one silent this long is gone.
WORKER_SEEN_WITHIN_S = 15


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("health: the database does not answer")
        return False


def redis_and_workers() -> tuple[bool, int | None]:
    """Whether Redis answers, and how many Dramatiq worker processes beat within the window."""
    client = get_redis()
    try:
        client.ping()
        key = f"{settings.DRAMATIQ_BROKER['OPTIONS']['namespace']}:__heartbeats__"
        since_ms = (time.time() - WORKER_SEEN_WITHIN_S) * 1000
        seen = {member for member in client.zrangebyscore(key, since_ms, "+inf")}
        # This web process enqueues through the broker too, which makes it beat: not a worker.
        seen.discard(_own_broker_id())
        return True, len(seen)
    except redis.RedisError:
        logger.exception("health: Redis does not answer")
        return False, None


def _own_broker_id() -> bytes | None:
    broker_id = getattr(dramatiq.get_broker(), "broker_id", None)
    return broker_id.encode() if isinstance(broker_id, str) else broker_id


def model_present() -> bool:
    # /health/ runs in web processes, which must not load rembg and onnxruntime.
    from processing.lib.rembg.sessions import model_file_path  # noqa: PLC0415

    try:
        return model_file_path(settings.REMBG_MODEL, settings.REMBG_HOME).is_file()
    except Exception:  # an unknown model name is a missing model
        return False


def worker_providers() -> list[str]:
    """The onnxruntime execution providers the live workers' rembg sessions run on."""
    try:
        workers = worker_list()
    except redis.RedisError:
        return []
    return sorted({name for worker in workers if not worker["lost"] for name in worker.get("providers", [])})


def health_report() -> tuple[int, dict]:
    db = database_ok()
    redis_up, workers = redis_and_workers()
    model = model_present()
    if not (db and redis_up):
        status, http_status = "unavailable", 503
    elif not workers or not model:
        status, http_status = "degraded", 200
    else:
        status, http_status = "ok", 200
    return http_status, {
        "status": status,
        "database": {"ok": db},
        "redis": {"ok": redis_up},
        "workers": {
            "ok": bool(workers),
            "seen": workers,
            "within_s": WORKER_SEEN_WITHIN_S,
            "providers": worker_providers() if redis_up else [],
        },
        "model": {"ok": model, "name": settings.REMBG_MODEL},
    }


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    http_status, report = health_report()
    return JsonResponse(report, status=http_status)
