from __future__ import annotations

from rest_framework import serializers

from processing.api.serializers import ImageUrlField
from processing.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class WebhookCreateInput(serializers.Serializer):
    url = ImageUrlField(help_text="An http(s) URL that receives the signed POSTs.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.values), required=False)


class WebhookOutput(serializers.ModelSerializer):
    # As it was given, which the request's pattern states (the model's URLField would say
    # `format: uri`, stricter than what check_url takes).
    url = serializers.CharField(max_length=2000)

    class Meta:
        model = WebhookEndpoint
        # previous_secret_expires_at: while set and in the future, deliveries are signed with the
        # secret from before the last rotation too.
        fields = ["id", "url", "events", "is_active", "created_at", "previous_secret_expires_at"]


class WebhookCreatedOutput(WebhookOutput):
    """The answers that carry the secret (creation, rotation): it is never shown again."""

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]


class WebhookDeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "delivery_id",
            "event",
            "attempt",
            "status_code",
            "succeeded",
            "response_excerpt",
            "error",
            "duration_ms",
            "payload",
            "created_at",
        ]

    succeeded = serializers.BooleanField(read_only=True)
