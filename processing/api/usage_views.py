"""Where the caller stands: the queues and its quotas."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from processing.api.base import DarkroomApiView
from processing.api.inputs import valid_query
from processing.api.schema import RATE_LIMIT_NOTE, errors
from processing.api.serializers import QueueStatsOutput, QuotaListOutput, UsageOutput, UsageQuery
from processing.jobs import selectors
from processing.jobs.kinds import PROCESSORS
from vendors.quotas import quota_usage
from vendors.selectors import vendor_retention_days, vendor_storage


class QueueStatsApi(DarkroomApiView):
    @extend_schema(
        operation_id="queue_stats",
        responses={200: QueueStatsOutput(many=True), **errors()},
        summary="Jobs per queue",
        description="For each kind's queue: counts over every vendor, and beside them (`vendor`) your own.",
    )
    def get(self, request):
        everyone = selectors.queue_stats()
        own = selectors.queue_stats(vendor=self.vendor(request))
        rows = [
            {
                "kind": kind,
                "queue": PROCESSORS[kind].queue if kind in PROCESSORS else kind,
                **counts,
                "vendor": own.get(kind, {}),
            }
            for kind, counts in sorted(everyone.items())
        ]
        return Response(QueueStatsOutput(rows, many=True).data)


class QuotaApi(DarkroomApiView):
    @extend_schema(
        operation_id="quota",
        responses={200: QuotaListOutput, **errors()},
        summary="Your request and storage limits",
        description="Each limit of your plan (with your overrides): limit, used, remaining, reset time; "
        "the bytes your stored originals take against your storage quota; and how long your records "
        "are kept. " + RATE_LIMIT_NOTE,
    )
    def get(self, request):
        vendor = self.vendor(request)
        limits = [{**usage.__dict__, "description": usage.description} for usage in quota_usage(vendor=vendor)]
        storage = vendor_storage(vendor=vendor)
        body = {
            "plan": vendor.plan.slug,
            "limits": limits,
            "storage": {**storage.__dict__, "remaining": storage.remaining},
            "retention": {"days": vendor_retention_days(vendor=vendor)},
        }
        return Response(QuotaListOutput(body).data)


class UsageApi(DarkroomApiView):
    @extend_schema(
        operation_id="usage",
        parameters=[UsageQuery],
        responses={200: UsageOutput, **errors(400)},
        summary="Your usage per day",
        description="What your jobs did each UTC day from `from` to `to` (at most 366 days per request), "
        "per kind and, for pipelines, per step kind, with the totals: the ledger billing reads. It outlives "
        "the jobs themselves (which are removed after their retention). `images` is what is billed: each "
        "succeeded job's steps, counted once however often it was retried or its messages delivered.",
    )
    def get(self, request):
        query = valid_query(UsageQuery, request)
        rows = list(
            selectors.usage_days(vendor=self.vendor(request), start=query["from"], end=query["to"], kind=query["kind"])
        )
        body = {
            "from": query["from"],
            "to": query["to"],
            "kind": query["kind"],
            "days": rows,
            **selectors.usage_totals(rows),
        }
        body["totals"] = body.pop("overall")
        body["storage"] = selectors.usage_storage_days(
            vendor=self.vendor(request), start=query["from"], end=query["to"]
        )
        return Response(UsageOutput(body).data)
