"""Jobs: start one, list and filter, read, cancel, retry."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from processing.api import limits
from processing.api.base import DarkroomApiView, path_parameter
from processing.api.filters import JobFilter
from processing.api.pagination import Pagination
from processing.api.schema import RATE_LIMIT_NOTE, errors
from processing.api.serializers import JobCreateInput, JobOutput
from processing.jobs import selectors, services
from processing.jobs.charges import charges_for_jobs
from processing.jobs.models import Job
from processing.lib.found import found
from vendors.selectors import project_get, record_get

IDEMPOTENCY_KEY_MAX = 255

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeating a request with the same key returns the first job instead of starting another.",
)


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationError({"Idempotency-Key": f"at most {IDEMPOTENCY_KEY_MAX} characters"})
    return key


def job_response(request, job, http_status=status.HTTP_200_OK) -> Response:
    return Response(JobOutput(job, context={"request": request}).data, status=http_status)


class JobListCreateApi(DarkroomApiView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    self_charging_methods = frozenset({"post"})
    # Read by the filter backend and by the schema generator; rows always come from the selector.
    queryset = Job.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = JobFilter
    pagination_class = Pagination

    @extend_schema(
        operation_id="jobs_list",
        responses={200: JobOutput(many=True), **errors(400, 404)},
        summary="List your jobs",
        description="Newest first; filter by state, kind, project, record, batch and creation time. " + RATE_LIMIT_NOTE,
        filters=True,
    )
    def get(self, request):
        jobs = DjangoFilterBackend().filter_queryset(request, selectors.job_list(vendor=self.vendor(request)), self)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobOutput(page, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="jobs_create",
        request={"multipart/form-data": JobCreateInput, "application/json": JobCreateInput},
        responses={202: JobOutput, **errors(400, 404, 413, 415)},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Start one job",
        description=(
            "Give exactly one input: an uploaded `image` (multipart), a stored `record` id, or an "
            "`image_url` the worker fetches. Answers at once; the work runs on a worker. Counts as one "
            "image-processing request, and a `remove_bg` job as one background removal. " + RATE_LIMIT_NOTE
        ),
    )
    def post(self, request):
        vendor = self.vendor(request)
        data = JobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = idempotency_key(request)
        existing = selectors.job_get_by_idempotency_key(vendor=vendor, key=key) if key else None
        if existing is not None:  # a replay is not counted again
            return job_response(request, existing, status.HTTP_202_ACCEPTED)
        record = project = None
        if "record" in values:
            record = found(record_get(vendor=vendor, record_id=values["record"]), "record")
        if "project" in values:
            project = found(project_get(vendor=vendor, project_id=values["project"]), "project")
        charges = charges_for_jobs(kind=values["kind"], count=1, bulk=False, params=values.get("params"))
        with limits.charged(request, vendor=vendor, charges=charges):
            job = services.job_create(
                vendor=vendor,
                kind=values["kind"],
                params=values.get("params"),
                priority=values.get("priority"),
                record=record,
                upload=values.get("image"),
                image_url=values.get("image_url"),
                project=project,
                idempotency_key=key,
            )
        return job_response(request, job, status.HTTP_202_ACCEPTED)


class OneJobApi(DarkroomApiView):
    # The views of one job, found among the caller's vendor's jobs.

    def get_object(self, request, job_id):
        return found(selectors.job_get(vendor=self.vendor(request), job_id=job_id), "job")


class JobDetailApi(OneJobApi):
    @extend_schema(
        operation_id="jobs_retrieve",
        parameters=[path_parameter("job_id", "uuid")],
        responses={200: JobOutput, **errors(404)},
        summary="Read one job",
        description="State, progress, error and result. Polling is counted against the loose read limit.",
    )
    def get(self, request, job_id):
        return job_response(request, self.get_object(request, job_id))


class JobCancelApi(OneJobApi):
    @extend_schema(
        operation_id="jobs_cancel",
        parameters=[path_parameter("job_id", "uuid")],
        request=None,
        responses={200: JobOutput, **errors(404, 409)},
        summary="Cancel a job",
        description="A waiting job never runs; a running one stops at its next stage. 409 once it has finished.",
    )
    def post(self, request, job_id):
        job = self.get_object(request, job_id)
        services.job_cancel(job=job)
        job.refresh_from_db()
        return job_response(request, job)


class JobRetryApi(OneJobApi):
    self_charging_methods = frozenset({"post"})

    @extend_schema(
        operation_id="jobs_retry",
        parameters=[path_parameter("job_id", "uuid")],
        request=None,
        responses={202: JobOutput, **errors(404, 409)},
        summary="Run a failed or cancelled job again",
        description="With a fresh set of attempts; counted like a new job. 409 unless it failed or was cancelled.",
    )
    def post(self, request, job_id):
        vendor = self.vendor(request)
        job = self.get_object(request, job_id)
        charges = charges_for_jobs(kind=job.kind, count=1, bulk=False, params=job.run_params)
        with limits.charged(request, vendor=vendor, charges=charges):
            services.job_retry(job=job)
        job.refresh_from_db()
        return job_response(request, job, status.HTTP_202_ACCEPTED)
