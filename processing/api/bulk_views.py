"""Bulk requests: many jobs of one kind at once, and the batch they make."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from processing import selectors, services
from vendors.quotas import quota_refund
from vendors.selectors import project_get, record_list

from . import limits
from .base import DarkroomApiView, path_parameter
from .schema import RATE_LIMIT_NOTE, errors
from .serializers import BatchOutput, BulkCreateInput, BulkCreateOutput


class BulkCreateApi(DarkroomApiView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    self_charging_methods = frozenset({"post"})

    @extend_schema(
        operation_id="jobs_bulk_create",
        request={"application/json": BulkCreateInput, "multipart/form-data": BulkCreateInput},
        responses={202: BulkCreateOutput, **errors(400, 404, 413, 415)},
        summary="Start many jobs of one kind",
        description=(
            "Give exactly one list: `records` (ids), `image_urls`, or several uploaded `images` "
            "(multipart). Counts as one bulk operation, and for `remove_bg` as one background "
            "removal per image: a request that does not fit in what is left is refused whole. " + RATE_LIMIT_NOTE
        ),
    )
    def post(self, request):
        vendor = self.vendor(request)
        data = BulkCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
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
            project = project_get(vendor=vendor, project_id=values["project"])
            if project is None:
                raise Http404("project not found")
        count = len(records or values.get("image_urls") or values.get("images") or [])
        charges = limits.charges_for_jobs(kind=values["kind"], count=count, bulk=True)
        usages = limits.consume(request, vendor=vendor, charges=charges)
        try:
            batch = services.batch_create(
                vendor=vendor,
                kind=values["kind"],
                params=values.get("params"),
                priority=values.get("priority"),
                records=records,
                uploads=values.get("images"),
                image_urls=values.get("image_urls"),
                project=project,
            )
        except Exception:
            quota_refund(vendor=vendor, usages=usages, charges=charges)
            raise
        job_ids = selectors.batch_job_ids(batch=batch)
        body = {
            "batch": batch.pk,
            "jobs": job_ids,
            "count": len(job_ids),
            "estimated_seconds": selectors.backlog_eta_s(kind=batch.kind),
        }
        return Response(BulkCreateOutput(body).data, status=status.HTTP_202_ACCEPTED)


def batch_or_404(view: DarkroomApiView, request, batch_id):
    batch = selectors.batch_get(vendor=view.vendor(request), batch_id=batch_id)
    if batch is None:
        raise Http404("batch not found")
    return batch


def batch_body(batch) -> dict:
    progress = selectors.batch_progress(batch=batch)
    return BatchOutput(
        {
            **progress,
            "id": batch.pk,
            "kind": batch.kind,
            "priority": batch.get_priority_display(),
            "created_at": batch.created_at,
            "finished_at": batch.finished_at,
        }
    ).data


class BatchDetailApi(DarkroomApiView):
    @extend_schema(
        operation_id="batches_retrieve",
        parameters=[path_parameter("batch_id", "uuid")],
        responses={200: BatchOutput, **errors(404)},
        summary="Progress of a batch",
        description="Jobs by state, percent finished and an estimate of the time left from the rate so far.",
    )
    def get(self, request, batch_id):
        return Response(batch_body(batch_or_404(self, request, batch_id)))


class BatchCancelApi(DarkroomApiView):
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
        batch = batch_or_404(self, request, batch_id)
        cancelled = services.batch_cancel(batch=batch)
        batch.refresh_from_db()
        return Response({"cancelled": cancelled, "batch": batch_body(batch)})
