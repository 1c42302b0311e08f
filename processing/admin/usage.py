"""Operators' usage page (/admin/usage/): each vendor × kind's totals of a month, sortable, and
the month as CSV for invoicing (one line per vendor × kind). Staff-only through the admin site;
the numbers come from the usage ledger (processing.jobs.selectors)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from processing.jobs import selectors

COLUMNS = [
    ("submitted", "Submitted"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("images", "Images"),
    ("input_bytes", "Input bytes"),
    ("output_bytes", "Output bytes"),
    ("worker_ms", "Worker ms"),
    ("ai_calls", "AI calls"),
]
SORTS = {"vendor", "kind", *(key for key, _ in COLUMNS)}


def _month(request: HttpRequest):
    """The month asked for (?month=YYYY-MM), this month when none or a malformed one is given,
    and the complaint to show for a malformed one."""
    text = request.GET.get("month", "")
    if text:
        try:
            return selectors.parse_month(text), ""
        except ValueError as exc:
            return timezone.now().date().replace(day=1), str(exc)
    return timezone.now().date().replace(day=1), ""


def usage_month(request: HttpRequest) -> TemplateResponse:
    month, problem = _month(request)
    sort = request.GET.get("sort", "vendor")
    if sort.lstrip("-") not in SORTS:
        sort = "vendor"
    vendor = request.GET.get("vendor", "").strip() or None
    rows = selectors.ops_usage_month(month=month, vendor=vendor, order=sort)
    context = {
        **admin.site.each_context(request),
        "title": f"Usage, {month:%B %Y}",
        "month": month,
        "month_text": f"{month:%Y-%m}",
        "vendor": vendor or "",
        "problem": problem,
        "sort": sort,
        "columns": COLUMNS,
        "rows": [{**row, "cells": [row[key] for key, _ in COLUMNS]} for row in rows],
        "totals": [sum(row[key] for row in rows) for key, _ in COLUMNS],
    }
    return TemplateResponse(request, "admin/usage/month.html", context, status=400 if problem else 200)


def usage_month_csv(request: HttpRequest) -> HttpResponse:
    month, problem = _month(request)
    if problem:
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    vendor = request.GET.get("vendor", "").strip() or None
    response = HttpResponse(
        selectors.ops_usage_month_csv(month=month, vendor=vendor), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="darkroom-usage-{month:%Y-%m}.csv"'
    return response


# Mounted under /admin/usage/ in config/urls.py, ahead of the admin's own catch-all.
urlpatterns = [
    path("", admin.site.admin_view(usage_month), name="admin-usage"),
    path("usage.csv", admin.site.admin_view(usage_month_csv), name="admin-usage-csv"),
]
