"""Exports in the portal: the owners ask for one (a project's, or all data), everyone of the
vendor follows them and downloads what is ready, through the same services as the API."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from processing.engine.exports import export_send
from processing.jobs import services
from processing.jobs.services.exports import UNFINISHED, export_download_url
from processing.lib.found import found
from processing.lib.http.stored_files import protect_stored_file
from processing.portal.vendor_context import render_portal, vendor_view
from vendors import selectors as vendor_selectors
from vendors.models import Membership


@require_GET
@vendor_view
def export_list(request, *, vendor):
    exports = list(vendor_selectors.export_list(vendor=vendor)[:50])
    rows = [{"export": e, "download_url": export_download_url(export=e, portal=True)} for e in exports]
    is_owner = vendor_selectors.membership_role(vendor=vendor, user=request.user) == Membership.Role.OWNER
    building = any(e.state in UNFINISHED for e in exports)
    return render_portal(request, "portal/exports.html", {"rows": rows, "is_owner": is_owner, "building": building})


@require_POST
@vendor_view
def export_create(request, *, vendor):
    """`project` (an id) exports that project; without it, all the vendor's data."""
    if vendor_selectors.membership_role(vendor=vendor, user=request.user) != Membership.Role.OWNER:
        raise PermissionDenied("only the vendor's owners export its data")
    project = None
    if request.POST.get("project"):
        project_id = request.POST["project"]
        project = (
            vendor_selectors.project_get(vendor=vendor, project_id=int(project_id)) if project_id.isdigit() else None
        )
        found(project, "project")
    try:
        with transaction.atomic():
            export = services.export_start(vendor=vendor, project=project, actor=request.user)
            export_send(export.pk)
    except services.ExportInProgress:
        messages.info(request, "That export is already being built: it is listed below.")
    else:
        what = f"the project “{project.name}”" if project else "all your data"
        messages.success(request, f"An export of {what} is being built; it is listed below when ready.")
    return redirect("portal:exports")


@require_GET
@vendor_view
def export_download(request, pk, *, vendor):
    export = vendor_selectors.export_get(vendor=vendor, export_id=pk)
    if export is None:
        raise Http404("no such export")
    try:
        source, filename = services.export_open(export=export, actor=request.user)
    except services.ExportNotReady:
        raise Http404("this export has no file (not ready, failed or expired)") from None
    return protect_stored_file(
        FileResponse(source, as_attachment=True, filename=filename, content_type="application/zip")
    )
