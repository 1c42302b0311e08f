"""GET /api/v1/events/?job=ID or ?batch=ID: Server-Sent Events until the job or batch ends.

The view itself only authenticates and finds the job or batch (DRF, so the token and session
rules and the JSON errors are the API's own); it returns at once, and the stream runs on the
event loop under ASGI, holding no thread while it waits for notices.
"""

from __future__ import annotations

import uuid
from functools import partial

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import Throttled
from rest_framework.renderers import JSONRenderer

from processing.api.base import DarkroomApiView
from processing.api.events.response import EventStreamResponse
from processing.api.events.slots import stream_slot_release, stream_slot_take
from processing.api.events.stream import (
    async_frames,
    batch_snapshot_reader,
    channel_for,
    job_snapshot_reader,
    listening_read,
    sync_frames,
)
from processing.api.schema import errors
from processing.jobs import selectors
from processing.lib.errors import InvalidOptions
from processing.lib.found import found


def _uuid_param(request, name: str) -> uuid.UUID | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404(f"{name} not found") from None


# Exactly one of ?job=ID or ?batch=ID: one exploded object parameter, so the schema can say so.
FOLLOWED = OpenApiParameter(
    "followed",
    {
        "type": "object",
        "properties": {"job": {"type": "string", "format": "uuid"}, "batch": {"type": "string", "format": "uuid"}},
        "oneOf": [{"required": ["job"]}, {"required": ["batch"]}],
    },
    OpenApiParameter.QUERY,
    required=True,
    style="form",
    explode=True,
    description="Exactly one of `job` (a job's id) or `batch` (a batch's id), as `?job=ID` or `?batch=ID`.",
)


class EventStreamApi(DarkroomApiView):
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        # Clients ask for text/event-stream; errors are still answered as JSON.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        operation_id="events_stream",
        parameters=[FOLLOWED],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                description="`event: job` (the job as GET /jobs/{id}/ shows it) or `event: batch` (the batch as GET /batches/{id}/ shows it, plus `finished`) "
                "on every change, `: keepalive` comments while quiet, and `event: end` with the final "
                "payload, after which the stream closes.",
            ),
            **errors(400, 404),
        },
        summary="Follow a job or a batch live (Server-Sent Events)",
    )
    def get(self, request):
        vendor = self.vendor(request)
        job_id, batch_id = _uuid_param(request, "job"), _uuid_param(request, "batch")
        if (job_id is None) == (batch_id is None):
            raise InvalidOptions("give exactly one of `job` or `batch`", code="invalid_query")
        if job_id is not None:
            found(selectors.job_get(vendor=vendor, job_id=job_id), "job")
            read = job_snapshot_reader(vendor=vendor, job_id=job_id, request=request)
        else:
            found(selectors.batch_get(vendor=vendor, batch_id=batch_id), "batch")
            read = batch_snapshot_reader(vendor=vendor, batch_id=batch_id)
        stream_id = stream_slot_take(vendor_uid=vendor.uid.hex)
        if stream_id is None:
            raise Throttled(
                wait=settings.EVENTS_REREAD_S,
                detail=f"at most {settings.EVENTS_MAX_STREAMS_PER_VENDOR} event streams may be open at once; "
                "close one, or poll the job or batch",
                code="too_many_streams",
            )
        channel = channel_for(job_id=job_id, batch_id=batch_id)
        release = partial(stream_slot_release, vendor_uid=vendor.uid.hex, stream_id=stream_id)
        read = listening_read(read, vendor_id=vendor.pk)
        return EventStreamResponse(
            sync_stream=sync_frames(channel=channel, read=read, release=release),
            async_stream=async_frames(channel=channel, read=read, release=release),
        )
