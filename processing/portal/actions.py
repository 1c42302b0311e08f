"""Portal actions: upload, start, delete, cancel, retry. Each answers at once (JSON to the page's
script, a redirect with a message to a plain form); the work itself runs on the workers."""

from __future__ import annotations

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from processing.jobs import selectors, services
from processing.jobs.charges import upload_charges
from processing.jobs.errors import JobError
from processing.jobs.states import InvalidTransition
from processing.lib.found import found
from processing.lib.problems import problem_response
from processing.portal.forms import DeleteForm, StartForm, UploadForm
from processing.portal.kind_options import image_generators, operation_kind_and_params
from processing.portal.quota_charges import refusal_sentence, start_charges
from processing.portal.snapshots import batch_snapshot
from processing.portal.vendor_context import vendor_view
from vendors import quotas
from vendors import selectors as vendor_selectors
from vendors import services as vendor_services


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error(code: str, message: str, status: int, **extra) -> JsonResponse:
    return problem_response(code=code, detail=message, status=status, **extra)


def _back(request, fallback: str = "portal:jobs"):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@require_POST
@vendor_view
def record_upload(request, pk, *, vendor):
    """One photo per request, so the page can show each file's upload progress."""
    project = found(vendor_selectors.project_get(vendor=vendor, project_id=pk), "project")
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _error("invalid_upload", "Choose an image file to upload.", 400)
    upload = form.cleaned_data["image"]
    try:
        services.check_upload(upload)
    except JobError as exc:
        return _error(exc.code, exc.message, 400)
    try:
        with quotas.quota_charged(vendor=vendor, charges=upload_charges(count=1)):
            record = vendor_services.record_create(project=project, upload=upload)
    except quotas.QuotaExceeded as exc:
        reset = exc.usage.reset_at.isoformat() if exc.usage.reset_at else None
        return _error("rate_limited", refusal_sentence(exc), 429, limit=exc.usage.name, reset_at=reset)
    except quotas.StorageQuotaExceeded as exc:
        return _error("storage_quota_exceeded", str(exc), 413, limit="storage_bytes")
    card = render_to_string("portal/_record_card.html", {"card": {"record": record, "job": None}}, request=request)
    return JsonResponse({"record": record.pk, "html": card}, status=201)


@require_POST
@vendor_view
def jobs_start(request, pk, *, vendor):
    """Start one kind of work on the selected photos: one batch, answered before any of it runs."""
    project = found(vendor_selectors.project_get(vendor=vendor, project_id=pk), "project")
    all_ids = list(vendor_selectors.record_list(vendor=vendor, project=project).values_list("pk", flat=True))
    form = StartForm(request.POST, record_ids=all_ids)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _start_refused(request, project, "invalid", message, 400)
    ids = all_ids if form.cleaned_data["all_records"] else form.cleaned_data["records"]
    records = vendor_selectors.record_list_by_ids(vendor=vendor, project=project, ids=ids)
    try:
        kind, params = operation_kind_and_params(form.cleaned_data["kind"], request.POST)
        with quotas.quota_charged(vendor=vendor, charges=start_charges(kind=kind, count=len(records), params=params)):
            batch = services.batch_create(
                vendor=vendor,
                kind=kind,
                params=params,
                priority=form.cleaned_data["priority"] or None,
                records=records,
            )
    except quotas.QuotaExceeded as exc:
        sentence = refusal_sentence(exc)
        reset = exc.usage.reset_at.isoformat() if exc.usage.reset_at else None
        return _start_refused(request, project, "rate_limited", sentence, 429, reset_at=reset)
    except JobError as exc:
        return _start_refused(request, project, exc.code, exc.message, 400)
    noun = "image" if batch.total == 1 else "images"
    message = f"{batch.total} {noun} queued"
    if _wants_json(request):
        return JsonResponse({"batch": batch_snapshot(batch), "message": message}, status=202)
    messages.success(request, message)
    return redirect("portal:project", project.pk)


@require_POST
@vendor_view
def records_delete(request, pk, *, vendor):
    """Delete the selected photos with everything they stored (the page asked to confirm first)."""
    project = found(vendor_selectors.project_get(vendor=vendor, project_id=pk), "project")
    all_ids = list(vendor_selectors.record_list(vendor=vendor, project=project).values_list("pk", flat=True))
    form = DeleteForm(request.POST, record_ids=all_ids)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _start_refused(request, project, "invalid", message, 400)
    report = services.records_delete(vendor=vendor, record_ids=form.cleaned_data["records"], actor=request.user)
    message = f"{report.records} photo{'' if report.records == 1 else 's'} deleted"
    if _wants_json(request):
        return JsonResponse({"deleted": form.cleaned_data["records"], "message": message})
    messages.success(request, message)
    return redirect("portal:project", project.pk)


@require_POST
@vendor_view
def image_generate(request, pk, *, vendor):
    """Generate an image from a prompt; when it is ready it is a record of the project, with
    previews like an upload."""
    project = found(vendor_selectors.project_get(vendor=vendor, project_id=pk), "project")
    endpoint, prompt = request.POST.get("endpoint", ""), request.POST.get("prompt", "").strip()
    if endpoint not in image_generators():
        return _start_refused(request, project, "invalid_params", "Choose one of the image generators.", 400)
    if not prompt:
        return _start_refused(request, project, "invalid_params", "Describe the image to generate.", 400)
    params = {"endpoint": endpoint, "prompt": prompt}
    try:
        with quotas.quota_charged(vendor=vendor, charges=start_charges(kind="ai_endpoint", count=1, params=params)):
            job = services.job_create(vendor=vendor, kind="ai_endpoint", params=params, project=project)
    except quotas.QuotaExceeded as exc:
        reset = exc.usage.reset_at.isoformat() if exc.usage.reset_at else None
        return _start_refused(request, project, "rate_limited", refusal_sentence(exc), 429, reset_at=reset)
    except JobError as exc:
        return _start_refused(request, project, exc.code, exc.message, 400)
    message = "Generating: the image joins the photos when it is ready."
    if _wants_json(request):
        return JsonResponse({"job": str(job.pk), "message": message}, status=202)
    messages.success(request, message)
    return redirect("portal:project", project.pk)


def _start_refused(request, project, code: str, message: str, status: int, **extra):
    if _wants_json(request):
        return _error(code, message, status, **extra)
    messages.error(request, message)
    return redirect("portal:project", project.pk)


@require_POST
@vendor_view
def job_cancel(request, pk, *, vendor):
    job = found(selectors.job_get(vendor=vendor, job_id=pk), "job")
    try:
        services.job_cancel(job=job)
        messages.success(request, "The job was cancelled.")
    except InvalidTransition:
        messages.error(request, f"This job is already {job.state}; it cannot be cancelled.")
    return _back(request)


def _charged_as_started(*, vendor, kind: str, params):
    """The charge for running n jobs again: counted like starting them anew (from their stored params)."""

    def charged(count: int):
        charges = start_charges(kind=kind, count=count, params=params, stored=True)
        return quotas.quota_charged(vendor=vendor, charges=charges)

    return charged


@require_POST
@vendor_view
def job_retry(request, pk, *, vendor):
    """Counted like a new job, as through the API."""
    job = found(selectors.job_get(vendor=vendor, job_id=pk), "job")
    try:
        services.job_retry(job=job, charged=_charged_as_started(vendor=vendor, kind=job.kind, params=job.run_params))
        messages.success(request, "The job is queued again.")
    except quotas.QuotaExceeded as exc:
        messages.error(request, refusal_sentence(exc))
    except InvalidTransition:
        messages.error(request, f"Only failed or cancelled jobs can be retried; this one is {job.state}.")
    return _back(request)


@require_POST
@vendor_view
def batch_retry_failed(request, pk, *, vendor):
    batch = found(selectors.batch_get(vendor=vendor, batch_id=pk), "batch")
    try:
        # Charged for exactly the failed jobs that run again, determined before charging.
        retried = services.batch_retry_failed(
            batch=batch, charged=_charged_as_started(vendor=vendor, kind=batch.kind, params=batch.params)
        )
    except quotas.QuotaExceeded as exc:
        if _wants_json(request):
            return _error("rate_limited", refusal_sentence(exc), 429)
        messages.error(request, refusal_sentence(exc))
        return _back(request)
    if _wants_json(request):
        return JsonResponse({"batch": batch_snapshot(batch), "message": f"{retried} failed jobs queued again"})
    messages.success(request, f"{retried} failed jobs queued again.")
    return _back(request)


@require_GET
@vendor_view
def batch_status(request, pk, *, vendor):
    """The page's polling fallback when server-sent events are unavailable."""
    return JsonResponse(batch_snapshot(found(selectors.batch_get(vendor=vendor, batch_id=pk), "batch")))
