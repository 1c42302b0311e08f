from __future__ import annotations

import json

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from processing.models import Job
from processing.processors import PROCESSORS
from vendors.models import Priority

PRIORITY_LABELS = [p.label for p in Priority]


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


class JobCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(PROCESSORS))
    params = JSONObjectField(required=False, default=dict)
    priority = serializers.ChoiceField(choices=PRIORITY_LABELS, required=False)
    image = serializers.FileField(required=False, allow_empty_file=True)
    record = serializers.IntegerField(required=False, min_value=1)
    project = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        if ("image" in attrs) == ("record" in attrs):
            raise serializers.ValidationError({"image": "give exactly one input: an uploaded `image` or a `record` id"})
        return attrs


class ProgressOutput(serializers.Serializer):
    percent = serializers.IntegerField()
    stage = serializers.CharField()
    message = serializers.CharField()


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ResultOutput(serializers.Serializer):
    url = serializers.CharField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


def absolute_url(request, name: str) -> str:
    url = default_storage.url(name)
    return request.build_absolute_uri(url) if request is not None and url.startswith("/") else url


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

    @extend_schema_field(serializers.ChoiceField(choices=PRIORITY_LABELS))
    def get_priority(self, job: Job) -> str:
        return job.priority_label

    @extend_schema_field(ProgressOutput)
    def get_progress(self, job: Job) -> dict:
        return {"percent": job.progress_percent, "stage": job.progress_stage, "message": job.progress_message}

    @extend_schema_field(ErrorOutput(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}

    @extend_schema_field(ResultOutput(allow_null=True))
    def get_result(self, job: Job) -> dict | None:
        if not job.result:
            return None
        return {
            "url": absolute_url(self.context.get("request"), job.result["name"]),
            "content_type": job.result["content_type"],
            "width": job.result["width"],
            "height": job.result["height"],
        }
