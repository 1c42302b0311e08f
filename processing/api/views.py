from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from processing import selectors, services
from vendors.selectors import project_get, record_get

from .serializers import JobCreateInput, JobOutput
from .vendor_context import VendorScopedMixin


class JobListCreateApi(VendorScopedMixin, APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request=JobCreateInput,
        responses={202: JobOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        summary="Start one job",
    )
    def post(self, request):
        vendor = self.vendor(request)
        data = JobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        record = project = None
        if "record" in values:
            record = record_get(vendor=vendor, record_id=values["record"])
            if record is None:
                raise Http404("record not found")
        if "project" in values:
            project = project_get(vendor=vendor, project_id=values["project"])
            if project is None:
                raise Http404("project not found")
        job = services.job_create(
            vendor=vendor,
            kind=values["kind"],
            params=values.get("params"),
            priority=values.get("priority"),
            record=record,
            upload=values.get("image"),
            project=project,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(JobOutput(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class JobDetailApi(VendorScopedMixin, APIView):
    @extend_schema(responses={200: JobOutput}, summary="Read one job")
    def get(self, request, job_id):
        job = selectors.job_get(vendor=self.vendor(request), job_id=job_id)
        if job is None:
            raise Http404("job not found")
        return Response(JobOutput(job, context={"request": request}).data)
