"""Bulk requests: many jobs of one kind at once, and the batch they make."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from processing.api import idempotency, limits
from processing.api.base import DarkroomApiView, path_parameter
from processing.api.inputs import valid_input
from processing.api.parsers import BoundedJSONParser
from processing.api.schema import RATE_LIMIT_NOTE, errors, multipart_with_images
from processing.api.serializers import BatchOutput, BulkCreateInput, BulkCreateJsonInput, BulkCreateOutput
from processing.jobs import selectors, services
from processing.jobs.charges import charges_for_jobs
from processing.jobs.models import Batch
from processing.jobs.representation import batch_representation
from processing.lib.found import found
from vendors.selectors import project_get, record_list


class BulkCreateApi(DarkroomApiView):
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    self_charging_methods = frozenset({"post"})

    @extend_schema(
        operation_id="jobs_bulk_create",
        request={
            "application/json": BulkCreateJsonInput,
            "multipart/form-data": multipart_with_images(BulkCreateInput, "images"),
        },
        responses={202: BulkCreateOutput, **errors(400, 404, 409, 413, 415, 422)},
        parameters=[idempotency.PARAMETER],
        summary="Start many jobs of one kind",
        description=(
            "Give exactly one list: `records` (ids), `image_urls`, or several uploaded `images` "
            "(multipart). Counts as one bulk operation, and for `remove_bg` as one background "
            "removal per image: a request that does not fit in what is left is refused whole. " + RATE_LIMIT_NOTE
        ),
    )
    def post(self, request):
        vendor = self.vendor(request)
        values = valid_input(BulkCreateInput, request)
        key = idempotency.claim(request, vendor=vendor, values=values)
        batch = idempotency.replayed(key, "batch")  # a replay is not counted again
        if batch is None:
            with idempotency.released_on_failure(key):
                batch = self.create(request, vendor=vendor, values=values, key=key)
        job_ids = selectors.batch_job_ids(batch=batch)
        body = {
            "batch": batch.pk,
            "jobs": job_ids,
            "count": len(job_ids),
            "estimated_seconds": selectors.backlog_eta_s(kind=batch.kind),
        }
        return Response(BulkCreateOutput(body).data, status=status.HTTP_202_ACCEPTED)

    def create(self, request, *, vendor, values, key) -> Batch:
        records = None
        if values.get("records"):
            wanted = set(values["records"])
            records = list(record_list(vendor=vendor).filter(pk__in=wanted))
            if len(records) != len(wanted):
                raise Http404("record not found")
            by_id = {record.pk: record for record in records}
            records = [by_id[record_id] for record_id in values["records"]]
        project = None
        if "project" in values:
            project = found(project_get(vendor=vendor, project_id=values["project"]), "project")
        count = len(records or values.get("image_urls") or values.get("images") or [])
        charges = charges_for_jobs(
            kind=values["kind"],
            count=count,
            bulk=True,
            params=values.get("params"),
            uploads=len(values.get("images") or []),
        )
        with limits.charged(request, vendor=vendor, charges=charges):
            return services.batch_create(
                vendor=vendor,
                kind=values["kind"],
                params=values.get("params"),
                priority=values.get("priority"),
                records=records,
                uploads=values.get("images"),
                image_urls=values.get("image_urls"),
                project=project,
                idempotency=key,
            )


class OneBatchApi(DarkroomApiView):
    # The views of one batch, found among the caller's vendor's batches.

    def get_object(self, request, batch_id):
        return found(selectors.batch_get(vendor=self.vendor(request), batch_id=batch_id), "batch")


class BatchDetailApi(OneBatchApi):
    @extend_schema(
        operation_id="batches_retrieve",
        parameters=[path_parameter("batch_id", "uuid")],
        responses={200: BatchOutput, **errors(404)},
        summary="Progress of a batch",
        description="Jobs by state, percent finished and an estimate of the time left from the rate so far.",
    )
    def get(self, request, batch_id):
        return Response(batch_representation(self.get_object(request, batch_id)))


class BatchCancelApi(OneBatchApi):
    @extend_schema(
        operation_id="batches_cancel",
        parameters=[path_parameter("batch_id", "uuid")],
        request=None,
        responses={
            200: inline_serializer(
                "BatchCancelled", fields={"cancelled": serializers.IntegerField(), "batch": BatchOutput()}
            ),
            **errors(404),
        },
        summary="Cancel every unfinished job of a batch",
    )
    def post(self, request, batch_id):
        batch = self.get_object(request, batch_id)
        cancelled = services.batch_cancel(batch=batch)
        batch.refresh_from_db()
        return Response({"cancelled": cancelled, "batch": batch_representation(batch)})
