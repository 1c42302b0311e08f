"""Webhook endpoints of the vendor: members see them and their delivery log; owners add and remove them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from processing.api.base import DarkroomApiView, parse_id, path_parameter
from processing.api.inputs import valid_input
from processing.api.pagination import (
    CURSOR_PARAMETERS,
    PAGE_PARAMETERS,
    NewestFirstCursorPagination,
    Pagination,
    paginated,
)
from processing.api.schema import errors
from processing.api.webhook_serializers import (
    WebhookCreatedOutput,
    WebhookCreateInput,
    WebhookDeliveryOutput,
    WebhookOutput,
)
from processing.lib.found import found
from processing.webhooks import selectors, services
from processing.webhooks.models import WebhookDelivery
from vendors.models import Membership
from vendors.selectors import membership_role


class WebhookBase(DarkroomApiView):
    def require_owner(self, request):
        vendor = self.vendor(request)
        if membership_role(vendor=vendor, user=request.user) != Membership.Role.OWNER:
            raise PermissionDenied("only the vendor's owners manage webhooks")
        return vendor

    def get_object(self, request, endpoint_id):
        return found(selectors.endpoint_get(vendor=self.vendor(request), endpoint_id=parse_id(endpoint_id)), "webhook")


class WebhookListCreateApi(WebhookBase):
    pagination_class = Pagination

    @extend_schema(
        operation_id="webhooks_list",
        parameters=PAGE_PARAMETERS,
        responses={200: WebhookOutput(many=True), **errors(400, 404)},
        summary="List the vendor's webhook endpoints",
    )
    def get(self, request):
        return paginated(self, request, selectors.endpoint_list(vendor=self.vendor(request)), WebhookOutput)

    @extend_schema(
        operation_id="webhooks_create",
        # JSON only in the schema (forms are still read): openapi-python-client 0.29 generates an
        # operation with several body types that cannot be imported (its issue 1451); docs/clients.md.
        request={"application/json": WebhookCreateInput},
        responses={201: WebhookCreatedOutput, **errors(400, 409, 415)},
        summary="Add a webhook endpoint (the answer shows its signing secret, once)",
    )
    def post(self, request):
        vendor = self.require_owner(request)
        data = valid_input(WebhookCreateInput, request)
        endpoint = services.endpoint_create(vendor=vendor, url=data["url"], events=data.get("events"))
        return Response(WebhookCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(WebhookBase):
    @extend_schema(
        operation_id="webhooks_retrieve",
        parameters=[path_parameter("endpoint_id", "int")],
        responses={200: WebhookOutput, **errors(404)},
    )
    def get(self, request, endpoint_id):
        return Response(WebhookOutput(self.get_object(request, endpoint_id)).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        parameters=[path_parameter("endpoint_id", "int")],
        responses={204: None, **errors(404)},
    )
    def delete(self, request, endpoint_id):
        endpoint = self.get_object(request, endpoint_id)
        self.require_owner(request)
        services.endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesApi(WebhookBase):
    queryset = WebhookDelivery.objects.none()  # for the schema generator only
    pagination_class = NewestFirstCursorPagination

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=[path_parameter("endpoint_id", "int"), *CURSOR_PARAMETERS],
        responses={200: WebhookDeliveryOutput(many=True), **errors(400, 404)},
        summary="The delivery attempts to an endpoint, newest first",
        description="A page at a time by cursor (`next`/`previous` in the body and the `Link` header).",
    )
    def get(self, request, endpoint_id):
        deliveries = selectors.delivery_list(endpoint=self.get_object(request, endpoint_id))
        return paginated(self, request, deliveries, WebhookDeliveryOutput)


class WebhookRotateSecretApi(WebhookBase):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        parameters=[path_parameter("endpoint_id", "int")],
        request=None,
        responses={200: WebhookCreatedOutput, **errors(404)},
        summary="Give an endpoint a new signing secret (shown once)",
        description=(
            "Until `previous_secret_expires_at` (WEBHOOK_SECRET_GRACE_H, 24 h by default) every delivery "
            "carries signatures with both the old and the new secret, so the receiver can switch at its pace."
        ),
    )
    def post(self, request, endpoint_id):
        endpoint = self.get_object(request, endpoint_id)
        self.require_owner(request)
        endpoint = services.endpoint_rotate_secret(endpoint=endpoint)
        return Response(WebhookCreatedOutput(endpoint).data)
