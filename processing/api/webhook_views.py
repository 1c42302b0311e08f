"""Webhook endpoints of the vendor: members see them and their delivery log; owners add and remove them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from processing.api.base import DarkroomApiView, parse_id, path_parameter
from processing.api.pagination import Pagination
from processing.api.webhook_serializers import (
    WebhookCreatedOutput,
    WebhookCreateInput,
    WebhookDeliveryOutput,
    WebhookOutput,
)
from processing.lib.found import found
from processing.webhooks import selectors, services
from vendors.models import Membership
from vendors.selectors import membership_role

DELIVERIES_SHOWN = 100


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

    @extend_schema(responses={200: WebhookOutput(many=True)}, summary="List the vendor's webhook endpoints")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.endpoint_list(vendor=self.vendor(request)), request, view=self)
        return paginator.get_paginated_response(WebhookOutput(page, many=True).data)

    @extend_schema(
        request=WebhookCreateInput,
        responses={201: WebhookCreatedOutput},
        summary="Add a webhook endpoint (the answer shows its signing secret, once)",
    )
    def post(self, request):
        vendor = self.require_owner(request)
        data = WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(
            vendor=vendor, url=data.validated_data["url"], events=data.validated_data.get("events")
        )
        return Response(WebhookCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(WebhookBase):
    @extend_schema(parameters=[path_parameter("endpoint_id", "int")], responses={200: WebhookOutput})
    def get(self, request, endpoint_id):
        return Response(WebhookOutput(self.get_object(request, endpoint_id)).data)

    @extend_schema(parameters=[path_parameter("endpoint_id", "int")], responses={204: None})
    def delete(self, request, endpoint_id):
        endpoint = self.get_object(request, endpoint_id)
        self.require_owner(request)
        services.endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesApi(WebhookBase):
    @extend_schema(
        parameters=[path_parameter("endpoint_id", "int")],
        responses={200: WebhookDeliveryOutput(many=True)},
        summary=f"The latest {DELIVERIES_SHOWN} delivery attempts to an endpoint",
    )
    def get(self, request, endpoint_id):
        deliveries = selectors.delivery_list(endpoint=self.get_object(request, endpoint_id))[:DELIVERIES_SHOWN]
        return Response(WebhookDeliveryOutput(deliveries, many=True).data)
