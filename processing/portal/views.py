"""Portal pages: what a vendor's people see. Reads go through selectors, scoped by vendor."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from processing.jobs import selectors
from processing.lib.found import found
from processing.portal.forms import JobFilterForm, ProjectForm
from processing.portal.kind_options import image_generators, kind_options
from processing.portal.snapshots import GRID_LIMIT
from processing.portal.usage_chart import usage_chart
from processing.portal.vendor_context import choose_vendor, render_portal, vendor_view
from vendors import quotas
from vendors import selectors as vendor_selectors
from vendors import services as vendor_services

RECENT_JOBS = 10


def events_url() -> str:
    """The server-sent events endpoint; the page polls where the browser cannot use it."""
    return reverse("events")


@require_GET
@vendor_view
def dashboard(request, *, vendor):
    return render_portal(
        request,
        "portal/dashboard.html",
        {
            "projects": vendor_selectors.project_list(vendor=vendor),
            "recent_jobs": selectors.job_filter(vendor=vendor)[:RECENT_JOBS],
            "quotas": quotas.quota_usage(vendor=vendor),
            "storage": vendor_selectors.vendor_storage(vendor=vendor),
            "retention_days": vendor_selectors.vendor_retention_days(vendor=vendor),
            "project_form": ProjectForm(),
        },
    )


@require_POST
@vendor_view
def vendor_switch(request, *, vendor):
    chosen = choose_vendor(request, request.POST.get("vendor", ""))
    if chosen is None:
        raise Http404("vendor not found")
    messages.info(request, f"Now working as {chosen.name}.")
    return redirect("portal:dashboard")


@require_POST
@vendor_view
def project_create(request, *, vendor):
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            project = vendor_services.project_create(vendor=vendor, name=form.cleaned_data["name"])
        except IntegrityError:
            messages.error(request, f"A project named “{form.cleaned_data['name']}” already exists.")
            return redirect("portal:dashboard")
        return redirect("portal:project", project.pk)
    messages.error(request, "A project needs a name.")
    return redirect("portal:dashboard")


@require_GET
@vendor_view
def project_detail(request, pk, *, vendor):
    project = found(vendor_selectors.project_get(vendor=vendor, project_id=pk), "project")
    records = list(vendor_selectors.record_list(vendor=vendor, project=project)[:GRID_LIMIT])
    latest = selectors.latest_jobs_by_record(vendor=vendor, record_ids=[r.pk for r in records])
    return render_portal(
        request,
        "portal/project.html",
        {
            "project": project,
            "cards": [{"record": record, "job": latest.get(record.pk)} for record in records],
            "kinds": kind_options(),
            "generators": image_generators(),
            "recent_batches": selectors.batch_list(vendor=vendor, project_id=project.pk)[:5],
            "events_url": events_url(),
        },
    )


@require_GET
@vendor_view
def record_detail(request, pk, *, vendor):
    record = found(vendor_selectors.record_get(vendor=vendor, record_id=pk), "record")
    jobs = list(selectors.job_list(vendor=vendor).filter(record=record)[:20])
    return render_portal(request, "portal/record.html", {"record": record, "jobs": jobs, "answers": _ai_answers(jobs)})


def _ai_answers(jobs) -> list[dict]:
    """The JSON answers of the photo's succeeded AI jobs, newest first, as the page shows them:
    a label analysis (its marketplaces' findings) as a table, any other answer as its fields."""
    answers = []
    for job in jobs:
        answer = (job.result or {}).get("answer")
        if job.kind != "ai_endpoint" or not isinstance(answer, dict):
            continue
        label = isinstance(answer.get("marketplaces"), list) and "category" in answer
        others = {k: v for k, v in answer.items() if not label or k not in LABEL_FIELDS}
        answers.append({"job": job, "answer": answer, "label": label, "fields": _shown(others)})
    return answers


LABEL_FIELDS = ("category", "marketplaces", "extracted_text", "confidence")


def _shown(fields: dict) -> list[tuple[str, str]]:
    return [
        (name.replace("_", " "), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for name, value in fields.items()
    ]


@require_GET
@vendor_view
def job_list(request, *, vendor):
    form = JobFilterForm(request.GET or None)
    state = kind = None
    if form.is_bound and form.is_valid():
        state, kind = form.cleaned_data["state"] or None, form.cleaned_data["kind"] or None
    page = Paginator(selectors.job_filter(vendor=vendor, state=state, kind=kind), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_portal(request, "portal/jobs.html", {"form": form, "page": page, "query": query.urlencode()})


USAGE_SPANS = (30, 90)


@require_GET
@vendor_view
def usage(request, *, vendor):
    """Images per day over the last 30 or 90 days, by kind, and this month's totals."""
    days = int(request.GET.get("days")) if request.GET.get("days") in {str(n) for n in USAGE_SPANS} else USAGE_SPANS[0]
    today = timezone.now().date()
    dates, series = selectors.usage_daily_by_kind(vendor=vendor, days=days, today=today)
    month_start = today.replace(day=1)
    month = selectors.usage_totals(list(selectors.usage_days(vendor=vendor, start=month_start, end=today)))
    context = {
        "days": days,
        "spans": USAGE_SPANS,
        "chart": usage_chart(dates, series),
        "month": month,
        "month_start": month_start,
        "today": today,
    }
    return render_portal(request, "portal/usage.html", context)
