"""The operators' queue dashboard (/admin/queues/) and the JSON it polls to stay live.
Both are staff-only through the admin site; the numbers come from processing.jobs.selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from processing.engine.registry import worker_list
from processing.jobs import selectors

COLUMNS = [
    ("waiting", "Waiting"),
    ("dispatched", "In Redis"),
    ("delayed", "Delayed"),
    ("running", "Running"),
    ("failed", "Failed (dead)"),
    ("completed_1h", "Completed (1 h)"),
    ("per_minute", "Per minute (1 h)"),
    ("oldest_waiting_s", "Oldest waiting (s)"),
]


def dashboard_data() -> dict[str, Any]:
    stats = selectors.queue_stats()
    throughput = selectors.queue_throughput(window_s=3600)
    oldest = selectors.queue_oldest_waiting_age_s()
    queues = [
        {
            "kind": kind,
            "waiting": counts["waiting"],
            "dispatched": counts["dispatched"],
            "delayed": counts["delayed"],
            "running": counts["active"],
            "failed": counts["failed"],
            "completed_1h": throughput[kind]["completed"],
            "per_minute": throughput[kind]["per_minute"],
            "oldest_waiting_s": oldest.get(kind),
        }
        for kind, counts in sorted(stats.items())
    ]
    return {
        "at": timezone.now().isoformat(),
        "queues": queues,
        "workers": worker_list(),
        "lost_after_s": settings.WORKER_LOST_AFTER_S,
        "gone_after_s": settings.WORKER_RECORD_TTL_S,
    }


def queue_dashboard(request: HttpRequest) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Queues and workers",
        "columns": COLUMNS,
        "data": dashboard_data(),
        "poll_ms": 2000,
    }
    return TemplateResponse(request, "admin/queues/dashboard.html", context)


def queue_dashboard_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dashboard_data())


# Mounted under /admin/queues/ in config/urls.py, ahead of the admin's own catch-all.
urlpatterns = [
    path("", admin.site.admin_view(queue_dashboard), name="admin-queues"),
    path("data.json", admin.site.admin_view(queue_dashboard_json), name="admin-queues-data"),
]
