"""Exports: a ZIP of a project or of all the vendor's data, built in the background."""

from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from processing.api.base import DarkroomApiView, path_parameter
from processing.api.errors import Conflict
from processing.api.inputs import valid_input
from processing.api.pagination import PAGE_PARAMETERS, Pagination, paginated
from processing.api.schema import errors
from processing.api.serializers import ExportInput, ExportOutput
from processing.engine.exports import export_send
from processing.jobs import services
from processing.lib.found import found
from processing.lib.http.stored_files import protect_stored_file
from vendors import selectors as vendor_selectors
from vendors.models import Export, Membership


class ExportListCreateApi(DarkroomApiView):
    queryset = Export.objects.none()  # for the schema generator only
    parser_classes = [JSONParser]
    pagination_class = Pagination

    @extend_schema(
        operation_id="exports_list",
        parameters=PAGE_PARAMETERS,
        responses={200: ExportOutput(many=True), **errors(400, 404)},
        summary="List your exports",
    )
    def get(self, request):
        return paginated(self, request, vendor_selectors.export_list(vendor=self.vendor(request)), ExportOutput)

    @extend_schema(
        operation_id="exports_create",
        request=ExportInput,
        responses={202: ExportOutput, **errors(400, 404, 409, 415)},
        summary="Export a project, or all your data",
        description=(
            "Only the vendor's owners may (403 for members). Answers 202 at once; a worker builds a ZIP "
            "of the originals, every job's result, and a manifest (`manifest.json`, `records.csv`, "
            "`jobs.csv`: names, sizes, content types, jobs with their params, states and times). Follow "
            "it at `status_url` (also in `Location`); once `ready`, `download_url` is a private link "
            "valid until `expires_at`, after which the file is removed. One export of the same data "
            "at a time: 409 while one is being built."
        ),
    )
    def post(self, request):
        vendor = self.vendor(request)
        if vendor_selectors.membership_role(vendor=vendor, user=request.user) != Membership.Role.OWNER:
            raise PermissionDenied("only the vendor's owners export its data")
        data = valid_input(ExportInput, request)
        project = None
        if data["project"] is not None:
            project = found(vendor_selectors.project_get(vendor=vendor, project_id=data["project"]), "project")
        try:
            with transaction.atomic():
                export = services.export_start(vendor=vendor, project=project, actor=request.user)
                export_send(export.pk)
        except services.ExportInProgress:
            raise Conflict(
                "an export of this data is being built; follow it or wait", code="export_in_progress"
            ) from None
        body = ExportOutput(export, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class ExportDetailApi(DarkroomApiView):
    queryset = Export.objects.none()  # for the schema generator only

    @extend_schema(
        operation_id="exports_retrieve",
        parameters=[path_parameter("export_id", "uuid")],
        responses={200: ExportOutput, **errors(404)},
        summary="Follow an export",
        description="`done` of `total` files so far; `download_url` once `state` is `ready`.",
    )
    def get(self, request, export_id):
        export = vendor_selectors.export_get(vendor=self.vendor(request), export_id=export_id)
        return Response(ExportOutput(found(export, "export"), context={"request": request}).data)


class ExportDownloadApi(DarkroomApiView):
    queryset = Export.objects.none()  # for the schema generator only

    @extend_schema(
        operation_id="exports_download",
        parameters=[path_parameter("export_id", "uuid")],
        responses={
            # Sent as octet-stream, a ZIP by its name: the type generated clients read as a file.
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The export's ZIP."),
            **errors(404),
        },
        summary="Download an export",
        description="The vendor's owners and members, while the export is `ready`; 404 before and after.",
    )
    def get(self, request, export_id):
        vendor = self.vendor(request)
        export = found(vendor_selectors.export_get(vendor=vendor, export_id=export_id), "export")
        return export_file_response(export, actor=request.user)


def export_file_response(export: Export, *, actor) -> FileResponse:
    """The export's ZIP streamed from storage (404 unless ready)."""
    try:
        source, filename = services.export_open(export=export, actor=actor)
    except services.ExportNotReady:
        found(None, "export")
    response = FileResponse(source, as_attachment=True, filename=filename, content_type="application/octet-stream")
    return protect_stored_file(response)
