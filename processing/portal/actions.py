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
from processing.jobs.states import InvalidTransition
from processing.lib.errors import DarkroomError, InvalidOptions
from processing.lib.found import found
from processing.lib.problems import error_response, problem_response
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
        return problem_response(code="invalid_upload", detail="Choose an image file to upload.", status=400)
    upload = form.cleaned_data["image"]
    try:
        services.check_upload(upload)
        with quotas.quota_charged(vendor=vendor, charges=upload_charges(count=1)):
            record = vendor_services.record_create(project=project, upload=upload)
    except DarkroomError as exc:
        return _problem(exc)
    card = render_to_string("portal/_record_card.html", {"card": {"record": record, "job": None}}, request=request)
    return JsonResponse({"record": record.pk, "html": card}, status=201)


@require_POST
@vendor_view
def jobs_start(request, pk, *, vendor):
    """Start one kind of work on the selected photos: one batch, answered before any of it runs."""
    project, all_ids = _project_and_record_ids(vendor=vendor, project_id=pk)
    form = StartForm(request.POST, record_ids=all_ids)
    if not form.is_valid():
        return _form_refused(request, project, form)
    ids = all_ids if form.cleaned_data["all_records"] else form.cleaned_data["records"]
    records = vendor_selectors.record_list_by_ids(vendor=vendor, project=project, ids=ids)
    try:
        kind, params = operation_kind_and_params(form.cleaned_data["kind"], request.POST)
        with _start_charged(vendor=vendor, kind=kind, count=len(records), params=params):
            batch = services.batch_create(
                vendor=vendor,
                kind=kind,
                params=params,
                priority=form.cleaned_data["priority"] or None,
                records=records,
            )
    except DarkroomError as exc:
        return _start_refused(request, project, exc)
    noun = "image" if batch.total == 1 else "images"
    return _started(request, project, f"{batch.total} {noun} queued", {"batch": batch_snapshot(batch)})


@require_POST
@vendor_view
def records_delete(request, pk, *, vendor):
    """Delete the selected photos with everything they stored (the page asked to confirm first)."""
    project, all_ids = _project_and_record_ids(vendor=vendor, project_id=pk)
    form = DeleteForm(request.POST, record_ids=all_ids)
    if not form.is_valid():
        return _form_refused(request, project, form)
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
    try:
        if endpoint not in image_generators():
            raise InvalidOptions("Choose one of the image generators.")
        if not prompt:
            raise InvalidOptions("Describe the image to generate.")
        params = {"endpoint": endpoint, "prompt": prompt}
        with _start_charged(vendor=vendor, kind="ai_endpoint", count=1, params=params):
            job = services.job_create(vendor=vendor, kind="ai_endpoint", params=params, project=project)
    except DarkroomError as exc:
        return _start_refused(request, project, exc)
    return _started(request, project, "Generating: the image joins the photos when it is ready.", {"job": str(job.pk)})


def _project_and_record_ids(*, vendor, project_id):
    """The vendor's project (404 otherwise) and the ids of its photos, which a selection must be among."""
    project = found(vendor_selectors.project_get(vendor=vendor, project_id=project_id), "project")
    return project, list(vendor_selectors.record_list(vendor=vendor, project=project).values_list("pk", flat=True))


def _start_charged(*, vendor, kind: str, count: int, params):
    """Starting `count` jobs of `kind`, charged as through the API (QuotaExceeded when it does not fit)."""
    return quotas.quota_charged(vendor=vendor, charges=start_charges(kind=kind, count=count, params=params))


def _problem(error: DarkroomError) -> JsonResponse:
    """The answer `error` carries, as the API gives it; a quota refusal in a sentence for people."""
    detail = refusal_sentence(error) if isinstance(error, quotas.QuotaExceeded) else None
    return error_response(error, detail=detail)


def _start_refused(request, project, error: DarkroomError):
    if _wants_json(request):
        return _problem(error)
    messages.error(request, refusal_sentence(error) if isinstance(error, quotas.QuotaExceeded) else error.public_detail)
    return redirect("portal:project", project.pk)


def _form_refused(request, project, form):
    message = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if _wants_json(request):
        return problem_response(code="invalid", detail=message, status=400)
    messages.error(request, message)
    return redirect("portal:project", project.pk)


def _started(request, project, message: str, body: dict):
    """Work was started: 202 with `body` to the page's script, else back to the project with a message."""
    if _wants_json(request):
        return JsonResponse({**body, "message": message}, status=202)
    messages.success(request, message)
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
            return _problem(exc)
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
