"""Webhook endpoints and their delivery log, for operators (the secret is never shown)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from processing.webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "vendor", "is_active", "created_at"]
    list_filter = ["is_active", "vendor"]
    search_fields = ["url"]
    # The secret signs every delivery; operators never need to read it.
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["vendor", "created_at", "previous_secret_expires_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # vendors add endpoints through the API, which returns the secret once


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "attempt", "status_code", "error", "duration_ms", "created_at"]
    list_filter = ["event", "status_code"]
    search_fields = ["delivery_id", "endpoint__url", "error"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
