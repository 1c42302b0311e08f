"""Projects and the records (photos) in them."""

from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from processing.api import limits
from processing.api.base import DarkroomApiView, parse_id, path_parameter
from processing.api.errors import Conflict
from processing.api.inputs import valid_input
from processing.api.pagination import PAGE_PARAMETERS, Pagination, paginated
from processing.api.parsers import BoundedJSONParser
from processing.api.schema import errors, multipart_with_images
from processing.api.serializers import (
    ProjectDeletionOutput,
    ProjectInput,
    ProjectOutput,
    RecordOutput,
    RecordUploadInput,
)
from processing.engine.deletions import project_deletion_send
from processing.jobs import services
from processing.jobs.charges import upload_charges
from processing.jobs.services import check_upload
from processing.lib.found import found
from vendors import selectors as vendor_selectors
from vendors import services as vendor_services
from vendors.models import Membership, Project, ProjectDeletion, Record


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


class ProjectDetailApi(DarkroomApiView):
    queryset = Project.objects.none()  # for the schema generator only

    def get_object(self, request, project_id) -> Project:
        project = vendor_selectors.project_get(vendor=self.vendor(request), project_id=parse_id(project_id))
        return found(project, "project")

    @extend_schema(
        operation_id="projects_retrieve",
        parameters=[path_parameter("project_id", "int")],
        responses={200: ProjectOutput, **errors(404)},
        summary="Read one project",
    )
    def get(self, request, project_id):
        return Response(ProjectOutput(self.get_object(request, project_id)).data)

    @extend_schema(
        operation_id="projects_destroy",
        parameters=[path_parameter("project_id", "int")],
        request=None,
        responses={202: ProjectDeletionOutput, **errors(404)},
        summary="Delete a project and everything in it",
        description=(
            "Only the vendor's owners may (403 for members). The project is gone at once for every "
            "read; its records are deleted in the background, in batches, each as `DELETE "
            "/records/{id}/` does (original, results and previews removed from storage, waiting and "
            "running jobs cancelled, bytes given back to the storage quota). Answers 202 with the "
            "deletion's progress and, in `Location` and `status_url`, where to follow it. Deleting "
            "it again answers 404."
        ),
    )
    def delete(self, request, project_id):
        vendor = self.vendor(request)
        if vendor_selectors.membership_role(vendor=vendor, user=request.user) != Membership.Role.OWNER:
            raise PermissionDenied("only the vendor's owners delete projects")
        project = self.get_object(request, project_id)
        try:
            with transaction.atomic():
                deletion = services.project_delete_start(vendor=vendor, project=project, actor=request.user)
                project_deletion_send(deletion.pk)
        except services.ProjectAlreadyDeleting:
            found(None, "project")
        body = ProjectDeletionOutput(deletion, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class ProjectDeletionApi(DarkroomApiView):
    queryset = ProjectDeletion.objects.none()  # for the schema generator only

    @extend_schema(
        operation_id="project_deletions_retrieve",
        parameters=[path_parameter("deletion_id", "uuid")],
        responses={200: ProjectDeletionOutput, **errors(404)},
        summary="Follow a project's deletion",
        description="`deleted` of `total` records so far; `state` becomes `done` once the project is gone.",
    )
    def get(self, request, deletion_id):
        deletion = vendor_selectors.project_deletion_get(vendor=self.vendor(request), deletion_id=deletion_id)
        return Response(ProjectDeletionOutput(found(deletion, "project deletion"), context={"request": request}).data)


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

    @extend_schema(
        operation_id="records_destroy",
        parameters=[path_parameter("record_id", "int")],
        request=None,
        responses={204: None, **errors(404)},
        summary="Delete a record",
        description=(
            "The vendor's owners and members may. Removes the original, every result and every preview "
            "from storage, cancels the record's waiting and running jobs (a running job's result is "
            "dropped, never stored), keeps its finished jobs only as rows without results, and gives "
            "its bytes back to your storage quota. Deleting it again answers 404."
        ),
    )
    def delete(self, request, record_id):
        vendor = self.vendor(request)
        record = found(vendor_selectors.record_get(vendor=vendor, record_id=parse_id(record_id)), "record")
        if not services.records_delete(vendor=vendor, record_ids=[record.pk], actor=request.user).records:
            found(None, "record")  # deleted by another request meanwhile
        return Response(status=status.HTTP_204_NO_CONTENT)
