"""Projects and the records (photos) in them."""

from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from processing.api import limits
from processing.api.base import DarkroomApiView, parse_id, path_parameter
from processing.api.errors import Conflict
from processing.api.inputs import valid_input
from processing.api.pagination import PAGE_PARAMETERS, Pagination, paginated
from processing.api.parsers import BoundedJSONParser
from processing.api.schema import errors, multipart_with_images
from processing.api.serializers import ProjectInput, ProjectOutput, RecordOutput, RecordUploadInput
from processing.jobs.charges import upload_charges
from processing.jobs.services import check_upload
from processing.lib.found import found
from vendors import selectors as vendor_selectors
from vendors import services as vendor_services
from vendors.models import Project, Record


class ProjectListCreateApi(DarkroomApiView):
    queryset = Project.objects.none()  # for the schema generator only
    pagination_class = Pagination

    @extend_schema(
        operation_id="projects_list",
        parameters=PAGE_PARAMETERS,
        responses={200: ProjectOutput(many=True), **errors(400, 404)},
        summary="List your projects",
    )
    def get(self, request):
        return paginated(self, request, vendor_selectors.project_list(vendor=self.vendor(request)), ProjectOutput)

    @extend_schema(
        operation_id="projects_create",
        # JSON only in the schema (forms are still read): openapi-python-client 0.29 generates an
        # operation with several body types that cannot be imported (its issue 1451); docs/clients.md.
        request={"application/json": ProjectInput},
        responses={201: ProjectOutput, **errors(400, 409, 415)},
        summary="Create a project",
    )
    def post(self, request):
        vendor = self.vendor(request)
        data = valid_input(ProjectInput, request)
        try:
            with transaction.atomic():  # a savepoint: the duplicate is reported, not a broken transaction
                project = vendor_services.project_create(vendor=vendor, name=data["name"])
        except IntegrityError:
            raise Conflict("a project with this name exists", field="name") from None
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectRecordsApi(DarkroomApiView):
    # An upload counts against the uploads quota (and its bytes the storage quota), not reads.
    self_charging_methods = frozenset({"post"})
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    queryset = Record.objects.none()  # for the schema generator only
    pagination_class = Pagination

    def get_object(self, request, project_id) -> Project:
        project = vendor_selectors.project_get(vendor=self.vendor(request), project_id=parse_id(project_id))
        return found(project, "project")

    @extend_schema(
        operation_id="projects_records_list",
        parameters=[path_parameter("project_id", "int"), *PAGE_PARAMETERS],
        responses={200: RecordOutput(many=True), **errors(400, 404)},
        summary="List a project's records",
    )
    def get(self, request, project_id):
        project = self.get_object(request, project_id)
        records = vendor_selectors.record_list(vendor=self.vendor(request), project=project)
        return paginated(self, request, records, RecordOutput)

    @extend_schema(
        operation_id="projects_records_create",
        parameters=[path_parameter("project_id", "int")],
        request={"multipart/form-data": multipart_with_images(RecordUploadInput, "image")},
        responses={201: RecordOutput, **errors(400, 404, 413, 415)},
        summary="Upload a photo to a project",
        description=(
            "Stores the original; start jobs on it with its id as `record`. Counts as one upload; "
            "refused with 413 `storage_quota_exceeded` when its bytes do not fit your storage quota."
        ),
    )
    def post(self, request, project_id):
        project = self.get_object(request, project_id)
        data = valid_input(RecordUploadInput, request)
        upload = data["image"]
        check_upload(upload)
        with limits.charged(request, vendor=self.vendor(request), charges=upload_charges(count=1)):
            record = vendor_services.record_create(project=project, upload=upload)
        return Response(RecordOutput(record, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RecordDetailApi(DarkroomApiView):
    @extend_schema(
        operation_id="records_retrieve",
        parameters=[path_parameter("record_id", "int")],
        responses={200: RecordOutput, **errors(404)},
        summary="Read one record",
        description="Original and latest processed image URLs, size, dimensions and times.",
    )
    def get(self, request, record_id):
        record = found(
            vendor_selectors.record_get(vendor=self.vendor(request), record_id=parse_id(record_id)), "record"
        )
        return Response(RecordOutput(record, context={"request": request}).data)
