"""Jobs: start one, list and filter, read, cancel, retry."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from processing.api import idempotency, limits
from processing.api.base import DarkroomApiView, path_parameter
from processing.api.filters import JobFilter
from processing.api.inputs import valid_input
from processing.api.pagination import CURSOR_PARAMETERS, NewestFirstCursorPagination, paginated
from processing.api.parsers import BoundedJSONParser
from processing.api.schema import RATE_LIMIT_NOTE, errors, multipart_with_images
from processing.api.serializers import JobCreateInput, JobCreateJsonInput, JobOutput
from processing.jobs import selectors, services
from processing.jobs.charges import charges_for_jobs
from processing.jobs.models import Job
from processing.lib.found import found
from vendors.selectors import project_get, record_get


def job_response(request, job, http_status=status.HTTP_200_OK) -> Response:
    return Response(JobOutput(job, context={"request": request}).data, status=http_status)


class JobListCreateApi(DarkroomApiView):
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    self_charging_methods = frozenset({"post"})
    # Read by the filter backend and by the schema generator; rows always come from the selector.
    queryset = Job.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = JobFilter
    pagination_class = NewestFirstCursorPagination

    @extend_schema(
        operation_id="jobs_list",
        responses={200: JobOutput(many=True), **errors(400, 404)},
        parameters=CURSOR_PARAMETERS,
        summary="List your jobs",
        description=(
            "Newest first, a page at a time by cursor (`next`/`previous` in the body and the `Link` header); "
            "filter by state, kind, project, record, batch and creation time. " + RATE_LIMIT_NOTE
        ),
        filters=True,
    )
    def get(self, request):
        jobs = DjangoFilterBackend().filter_queryset(request, selectors.job_list(vendor=self.vendor(request)), self)
        return paginated(self, request, jobs, JobOutput)

    @extend_schema(
        operation_id="jobs_create",
        request={
            "multipart/form-data": multipart_with_images(JobCreateInput, "image"),
            "application/json": JobCreateJsonInput,
        },
        responses={202: JobOutput, **errors(400, 404, 409, 413, 415, 422)},
        parameters=[idempotency.PARAMETER],
        summary="Start one job",
        description=(
            "Give exactly one input: an uploaded `image` (multipart), a stored `record` id, or an "
            "`image_url` the worker fetches; in a JSON body, none for a kind that works from its `params` "
            "alone (an `ai_endpoint` generating from a `prompt`). Answers at once; the work runs on a worker. Counts as one "
            "image-processing request, and a `remove_bg` job as one background removal. " + RATE_LIMIT_NOTE
        ),
    )
    def post(self, request):
        vendor = self.vendor(request)
        values = valid_input(JobCreateInput, request)
        key = idempotency.claim(request, vendor=vendor, values=values)
        if first := idempotency.replayed(key, "job"):  # a replay is not counted again
            return job_response(request, first, status.HTTP_202_ACCEPTED)
        with idempotency.released_on_failure(key):
            record = project = None
            if "record" in values:
                record = found(record_get(vendor=vendor, record_id=values["record"]), "record")
            if "project" in values:
                project = found(project_get(vendor=vendor, project_id=values["project"]), "project")
            charges = charges_for_jobs(
                kind=values["kind"], count=1, bulk=False, params=values.get("params"), uploads=int("image" in values)
            )
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
                    idempotency=key,
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

        def charged(count: int):  # only if it does run again: a retry that lost a race costs nothing
            charges = charges_for_jobs(kind=job.kind, count=count, bulk=False, params=job.run_params, stored=True)
            return limits.charged(request, vendor=vendor, charges=charges)

        services.job_retry(job=job, charged=charged)
        job.refresh_from_db()
        return job_response(request, job, status.HTTP_202_ACCEPTED)
