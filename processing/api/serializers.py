from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from processing.api.kind_schemas import BULK_INPUTS, JOB_INPUTS, job_body
from processing.jobs.errors import InvalidInput
from processing.jobs.kinds import PROCESSORS
from processing.jobs.models import Job
from processing.jobs.representation import job_representation, result_url
from processing.jobs.selectors import MAX_DAYS
from processing.jobs.services import one_input_check
from processing.jobs.services.exports import export_download_url
from processing.lib.errors import InvalidOptions
from processing.lib.http.guard import check_url
from vendors.models import Export, Priority, Project, ProjectDeletion, Record

PRIORITY_LABELS = [p.label for p in Priority]
MAX_ID = 2**63 - 1  # ids are BIGINT: larger numbers can match nothing


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.Field):
    """A JSON object given as an object (JSON bodies) or as a string (multipart forms)."""

    default_error_messages = {"invalid": "must be a JSON object"}

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


MAX_URL_LENGTH = 2000
BULK_MAX_ITEMS = settings.BULK_MAX_ITEMS


# What check_url takes, and nothing else, so the schema's pattern is the rule: http(s), a host
# name or a bracketed IPv6 address, an optional port, no credentials, no spaces, printable ASCII.
_H16 = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    [
        f"{_H16}(:{_H16}){{7}}",
        f"({_H16}:){{1,7}}:",
        *(f"({_H16}:){{1,{7 - n}}}(:{_H16}){{1,{n}}}" for n in range(1, 7)),
        f":((:{_H16}){{1,7}}|:)",
    ]
)
_PORT = "6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}"
URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9._~%!$&'()*+,;=-]+|\[({_IPV6})\])(:({_PORT}))?([/?#][\x21-\x7e]*)?$"
)


@extend_schema_field({"type": "string", "pattern": URL_PATTERN, "maxLength": MAX_URL_LENGTH})
class ImageUrlField(serializers.CharField):
    """An http(s) URL (an image the worker will fetch, a webhook's receiver); nothing is fetched on
    the request path. The library's check_url is the one rule; the pattern says it in the schema."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_URL_LENGTH, **kwargs)
        self.validators.append(RegexValidator(URL_PATTERN, message="must be an http or https URL"))

    def to_internal_value(self, data):
        url = super().to_internal_value(data)
        try:
            check_url(url, name=self.field_name or "url")
        except InvalidOptions as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None
        return url


class JobInputFields(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(PROCESSORS))
    params = JSONObjectField(required=False, default=dict, help_text="Parameters of the kind, as a JSON object.")
    priority = serializers.ChoiceField(choices=PRIORITY_LABELS, required=False, help_text="Default: the plan's.")
    project = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Project that uploaded images are stored in; for a job without an input (an image generated "
        "from a prompt), the project whose new record the generated image becomes.",
    )


class JobCreateInput(JobInputFields):
    image = serializers.FileField(required=False, allow_empty_file=True, help_text="An image to upload.")
    record = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A stored record's image."
    )
    image_url = ImageUrlField(required=False, help_text="An http(s) URL the worker fetches the image from.")

    def validate(self, attrs):
        given = [name for name in ("image", "record", "image_url") if name in attrs]
        try:
            # A prompt-only kind may be given no input at all, in JSON: a form carries one.
            one_input_check(kind=attrs["kind"], given=given, none_allowed=not self.context.get("form"))
        except InvalidInput as exc:
            raise serializers.ValidationError({"image": exc.message}) from None
        return attrs


class BulkCreateInput(JobInputFields):
    records = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        max_length=BULK_MAX_ITEMS,
    )
    image_urls = serializers.ListField(
        child=ImageUrlField(), required=False, allow_empty=False, max_length=BULK_MAX_ITEMS
    )
    # Django refuses a body with more files than this before any view runs.
    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        allow_empty=False,
        max_length=min(BULK_MAX_ITEMS, settings.DATA_UPLOAD_MAX_NUMBER_FILES),
    )

    def validate(self, attrs):
        given = [name for name in ("records", "image_urls", "images") if name in attrs]
        if self.context.get("form") and set(given) - {"images"}:
            # A form cannot send an empty list (no part is no list), so the schema describes id
            # and URL lists for JSON bodies only, and so does the server.
            raise serializers.ValidationError(
                {given[0]: "send `records` and `image_urls` as JSON; a form uploads `images`"}
            )
        if len(given) != 1:
            raise serializers.ValidationError(
                {"records": "give exactly one non-empty list: `records`, `image_urls` or uploaded `images`"}
            )
        return attrs


class JobCreateJsonInput(JobCreateInput):
    """The schema of a JSON body: the same, less the file JSON cannot carry (views validate with JobCreateInput)."""

    image = None


class BulkCreateJsonInput(BulkCreateInput):
    """As JobCreateJsonInput, for bulk requests."""

    images = None


job_body(JobCreateInput, JOB_INPUTS, multipart=True, none_allowed=False)
job_body(JobCreateJsonInput, JOB_INPUTS, multipart=False, none_allowed=True)
job_body(BulkCreateInput, BULK_INPUTS, multipart=True, none_allowed=False, uploads_only=True)
job_body(BulkCreateJsonInput, BULK_INPUTS, multipart=False, none_allowed=False)


class BulkCreateOutput(serializers.Serializer):
    batch = serializers.UUIDField()
    jobs = serializers.ListField(child=serializers.UUIDField())
    count = serializers.IntegerField()
    estimated_seconds = serializers.FloatField(
        allow_null=True, help_text="Until the last job is done, from recent durations; null before any is known."
    )


class BatchOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    priority = serializers.CharField()
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    percent = serializers.FloatField(
        help_text="Done out of all: finished jobs (any outcome), and running ones by their own progress."
    )
    eta_s = serializers.FloatField(
        allow_null=True,
        help_text="Seconds until the batch is done: the queue ahead of it and its own jobs, at the rate jobs "
        "of its kind have succeeded lately; null before one has.",
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "created_at"]


class ProjectDeletionOutput(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", help_text="The id the project had.")
    status_url = serializers.SerializerMethodField(help_text="Where to follow the deletion (GET).")

    class Meta:
        model = ProjectDeletion
        fields = [
            "id",
            "project",
            "project_name",
            "state",
            "total",
            "deleted",
            "created_at",
            "finished_at",
            "status_url",
        ]
        extra_kwargs = {
            "state": {"help_text": "`running` while records are being deleted, then `done` (the project is gone)."},
            "total": {"help_text": "Records the project held when its deletion started."},
            "deleted": {"help_text": "Records deleted so far, with their files."},
        }

    def get_status_url(self, deletion: ProjectDeletion) -> str:
        path = reverse("project-deletion", kwargs={"deletion_id": deletion.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportInput(serializers.Serializer):
    project = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        help_text="The project to export (its id), or null for all your data (every project).",
    )


class ExportOutput(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", allow_null=True, help_text="The project exported, or null.")
    status_url = serializers.SerializerMethodField(help_text="Where to follow the export (GET).")
    download_url = serializers.SerializerMethodField(
        help_text="Where to download the ZIP while `state` is `ready` (a private link, until `expires_at`); else null."
    )

    class Meta:
        model = Export
        fields = [
            "id",
            "scope",
            "project",
            "project_name",
            "state",
            "total",
            "done",
            "size_bytes",
            "created_at",
            "finished_at",
            "expires_at",
            "status_url",
            "download_url",
        ]
        extra_kwargs = {
            "state": {
                "help_text": "`queued`, `running`, then `ready` (downloadable until `expires_at`) and `expired` "
                "(its file removed); or `failed` (ask for a new one)."
            },
            "total": {"help_text": "Files the archive holds (originals and results)."},
            "done": {"help_text": "Files written so far."},
            "size_bytes": {"help_text": "The ZIP's size once ready."},
        }

    def get_status_url(self, export: Export) -> str:
        path = reverse("export-detail", kwargs={"export_id": export.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_download_url(self, export: Export) -> str | None:
        return export_download_url(export=export, request=self.context.get("request"))


class RecordUploadInput(serializers.Serializer):
    image = serializers.FileField(allow_empty_file=True)


class RecordOutput(serializers.ModelSerializer):
    original_url = serializers.SerializerMethodField()
    processed_url = serializers.SerializerMethodField()

    class Meta:
        model = Record
        fields = [
            "id",
            "project",
            "original_filename",
            "original_url",
            "content_type",
            "size_bytes",
            "width",
            "height",
            "processed_url",
            "processed_content_type",
            "processed_at",
            "created_at",
        ]

    def get_original_url(self, record: Record) -> str:
        return absolute_url(self.context.get("request"), record.original.name)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_processed_url(self, record: Record) -> str | None:
        return absolute_url(self.context.get("request"), record.processed.name) if record.processed else None


class QueueCounts(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="Admissible now, not yet handed to a worker queue.")
    dispatched = serializers.IntegerField(help_text="Handed to the worker queue, not started.")
    active = serializers.IntegerField()
    delayed = serializers.IntegerField(help_text="Waiting for a retry backoff, or their vendor is paused.")
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    total = serializers.IntegerField()


class QueueStatsOutput(QueueCounts):
    kind = serializers.CharField()
    queue = serializers.CharField()
    vendor = QueueCounts(help_text="The same counts over your own jobs only.")


class QuotaOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    limit = serializers.IntegerField(allow_null=True, help_text="null: no limit on your plan.")
    used = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True)
    reset_at = serializers.DateTimeField(allow_null=True)
    window_s = serializers.IntegerField()


class StorageOutput(serializers.Serializer):
    used = serializers.IntegerField(help_text="Bytes your records' originals take now.")
    limit = serializers.IntegerField(allow_null=True, help_text="null: no storage limit on your plan.")
    remaining = serializers.IntegerField(allow_null=True)


class RetentionOutput(serializers.Serializer):
    days = serializers.IntegerField(
        allow_null=True,
        help_text="Days a record (its original, results and previews) is kept after upload, then deleted "
        "as DELETE /records/{id}/ does; null: kept until you delete it.",
    )


class QuotaListOutput(serializers.Serializer):
    plan = serializers.CharField()
    limits = QuotaOutput(many=True)
    storage = StorageOutput()
    retention = RetentionOutput()


class UsageQuery(serializers.Serializer):
    """The usage read's query: a span of UTC days, at most MAX_DAYS, and optionally one kind."""

    vars()["from"] = serializers.DateField(
        required=False, help_text="First UTC day, YYYY-MM-DD (default: 29 days before `to`)."
    )
    to = serializers.DateField(required=False, help_text="Last UTC day, YYYY-MM-DD, included (default: today).")
    kind = serializers.ChoiceField(choices=[], required=False, help_text="Only this kind.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = sorted(PROCESSORS)

    def validate(self, attrs):
        end = attrs.get("to") or timezone.now().date()
        start = attrs.get("from") or end - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"from": ["must not be after `to`"]}, code="invalid_range")
        if (end - start).days + 1 > MAX_DAYS:
            raise serializers.ValidationError(
                {"from": [f"at most {MAX_DAYS} days per request, not {(end - start).days + 1}"]}, code="range_too_long"
            )
        return {"from": start, "to": end, "kind": attrs.get("kind") or None}


class UsageCounts(serializers.Serializer):
    submitted = serializers.IntegerField(help_text="Jobs created, and jobs run again by hand (each charged).")
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    images = serializers.IntegerField(help_text="What is billed: each succeeded job's steps (1 unless a pipeline).")
    input_bytes = serializers.IntegerField(help_text="Bytes succeeded jobs read.")
    output_bytes = serializers.IntegerField(help_text="Bytes of their results.")
    worker_seconds = serializers.FloatField(help_text="Worker time of the runs that finished jobs.")
    ai_calls = serializers.IntegerField(
        help_text="Calls outside AI endpoints answered, those of attempts that then failed included."
    )
    ai_input_tokens = serializers.IntegerField(help_text="Tokens the endpoints reported, where they do.")
    ai_output_tokens = serializers.IntegerField()

    def to_representation(self, instance):
        get = instance.get if isinstance(instance, dict) else lambda name: getattr(instance, name)
        row = {name: get(name) for name in self.fields if name != "worker_seconds"}
        row["worker_seconds"] = round(get("worker_ms") / 1000, 3)
        return row


class UsageDayOutput(UsageCounts):
    day = serializers.DateField()
    kind = serializers.CharField()
    step_kind = serializers.CharField(
        help_text="\"\" on a kind's own row; on a pipeline's, one row per step kind counts its `images`."
    )

    def to_representation(self, instance):
        return {
            "day": instance.day,
            "kind": instance.kind,
            "step_kind": instance.step_kind,
            **super().to_representation(instance),
        }


class StorageDayOutput(serializers.Serializer):
    day = serializers.DateField()
    originals_bytes = serializers.IntegerField()


class UsageOutput(serializers.Serializer):
    vars()["from"] = serializers.DateField()
    to = serializers.DateField()
    kind = serializers.CharField(allow_null=True)
    days = UsageDayOutput(many=True, help_text="Days with usage only, by day, kind and step kind.")
    totals = UsageCounts(help_text="Over the span (the kinds' own rows).")
    kinds = serializers.DictField(child=UsageCounts(), help_text="Totals per kind.")
    steps = serializers.DictField(child=serializers.IntegerField(), help_text="Pipeline images per step kind.")
    storage = StorageDayOutput(many=True, help_text="Bytes your stored originals held, sampled once a day.")


class ProgressOutput(serializers.Serializer):
    percent = serializers.IntegerField()
    stage = serializers.CharField()
    message = serializers.CharField()


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class AiUsageOutput(serializers.Serializer):
    provider = serializers.CharField()
    endpoint = serializers.CharField()
    model = serializers.CharField()
    calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField(allow_null=True)
    output_tokens = serializers.IntegerField(allow_null=True)
    cached_input_tokens = serializers.IntegerField(allow_null=True)
    cache_write_input_tokens = serializers.IntegerField(allow_null=True)


class ResultOutput(serializers.Serializer):
    url = serializers.CharField()
    content_type = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    answer = serializers.JSONField(
        required=False,
        help_text="ai_endpoint: the JSON answer (schema-checked when a schema was asked for), when at most 64 KB; "
        "else read it at `url`.",
    )
    usage = AiUsageOutput(required=False, help_text="ai_endpoint: what the AI service counted for this job.")


def absolute_url(request, name: str) -> str:
    return result_url(name, absolute=request.build_absolute_uri if request is not None else None)


class JobOutput(serializers.ModelSerializer):
    priority = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "priority",
            "progress",
            "attempts",
            "error",
            "result",
            "record",
            "batch",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def to_representation(self, job: Job) -> dict:
        request = self.context.get("request")
        return job_representation(job, absolute=request.build_absolute_uri if request is not None else None)

    # The getters only type these fields in the schema: to_representation builds the whole job.
    @extend_schema_field(serializers.ChoiceField(choices=PRIORITY_LABELS))
    def get_priority(self, job: Job) -> str: ...

    @extend_schema_field(ProgressOutput)
    def get_progress(self, job: Job) -> dict: ...

    @extend_schema_field(ErrorOutput(allow_null=True))
    def get_error(self, job: Job) -> dict | None: ...

    @extend_schema_field(ResultOutput(allow_null=True))
    def get_result(self, job: Job) -> dict | None: ...
