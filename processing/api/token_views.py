"""The caller's own API keys: list (prefixes only), make, rotate, revoke. A key is shown once,
in the answer that makes or rotates it; only its hash is kept. A vendor's owners also see every
key of its members and can revoke them all at once."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from processing.api.base import DarkroomApiView, parse_id, path_parameter
from processing.api.inputs import valid_input
from processing.api.pagination import PAGE_PARAMETERS, Pagination, paginated
from processing.api.parsers import BoundedJSONParser
from processing.api.schema import errors
from processing.lib.found import found
from vendors import selectors, services
from vendors.models import Membership


class TtlDaysInput(serializers.Serializer):
    """`ttl_days`, bounded by API_TOKEN_TTL_DAYS as set when the request (or the schema) is read."""

    def get_fields(self):
        cap = settings.API_TOKEN_TTL_DAYS  # 0: keys never expire in this deployment
        ttl_days = serializers.IntegerField(
            min_value=0,
            max_value=cap or 3650,
            required=False,
            help_text=(
                f"Days until it expires; default and at most API_TOKEN_TTL_DAYS ({cap or 'no limit'}). 0 (never) "
                "only on a plan that allows keys that never expire: 403 `never_expiring_key_not_allowed` otherwise."
            ),
        )
        return {**super().get_fields(), "ttl_days": ttl_days}


class TokenInput(TtlDaysInput):
    name = serializers.CharField(max_length=100, required=False, default="default")


class RotateInput(TtlDaysInput):
    pass


class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to tell keys apart.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class VendorTokenOutput(TokenOutput):
    user = serializers.CharField(source="user.username", help_text="The member whose key it is.")


class RevokedOutput(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many keys stopped working.")


class TokenCreatedOutput(TokenOutput):
    key = serializers.CharField(help_text="Shown this once: it cannot be read again. Send it as `Token <key>`.")


def _created(token, key: str) -> dict:
    return {**TokenOutput(token).data, "key": key}


class TokenListCreateApi(DarkroomApiView):
    parser_classes = [BoundedJSONParser]  # no file to carry: JSON only, so a body means one thing
    pagination_class = Pagination

    @extend_schema(
        operation_id="tokens_list",
        parameters=PAGE_PARAMETERS,
        responses={200: TokenOutput(many=True), **errors(400, 404)},
        summary="List your API keys (their prefixes; keys are never shown again)",
    )
    def get(self, request):
        return paginated(self, request, selectors.api_token_list(user=request.user), TokenOutput)

    @extend_schema(
        operation_id="tokens_create",
        request=TokenInput,
        responses={201: TokenCreatedOutput, **errors(400, 403, 409, 415)},
        summary="Make an API key (the answer shows it, once)",
    )
    def post(self, request):
        data = valid_input(TokenInput, request)
        token, key = services.api_token_create(user=request.user, name=data["name"], ttl_days=data.get("ttl_days"))
        return Response(TokenCreatedOutput(_created(token, key)).data, status=status.HTTP_201_CREATED)


class TokenDetailApi(DarkroomApiView):
    parser_classes = [BoundedJSONParser]

    def get_object(self, request, token_id):
        return found(selectors.api_token_get(user=request.user, token_id=parse_id(token_id)), "token")

    @extend_schema(
        operation_id="tokens_revoke",
        parameters=[path_parameter("token_id", "int")],
        request=None,
        responses={204: None, **errors(404)},
        summary="Revoke an API key: it stops working at once",
    )
    def delete(self, request, token_id):
        services.api_token_revoke(token=self.get_object(request, token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateApi(TokenDetailApi):
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="tokens_rotate",
        parameters=[path_parameter("token_id", "int")],
        request=RotateInput,
        responses={200: TokenCreatedOutput, **errors(400, 403, 404, 415)},
        summary="A new key for an API key (shown once); the old one stops working at once",
    )
    def post(self, request, token_id):
        token = self.get_object(request, token_id)
        data = valid_input(RotateInput, request)
        token, key = services.api_token_rotate(token=token, ttl_days=data.get("ttl_days"))
        return Response(TokenCreatedOutput(_created(token, key)).data)


class VendorTokensBase(DarkroomApiView):
    def require_owner(self, request):
        vendor = self.vendor(request)
        if selectors.membership_role(vendor=vendor, user=request.user) != Membership.Role.OWNER:
            raise PermissionDenied("only the vendor's owners see and revoke its members' keys")
        return vendor


class VendorTokenListApi(VendorTokensBase):
    pagination_class = Pagination

    @extend_schema(
        operation_id="vendor_tokens_list",
        parameters=PAGE_PARAMETERS,
        responses={200: VendorTokenOutput(many=True), **errors(400, 403, 404)},
        summary="List every API key of the vendor's members (owners only; prefixes, never keys)",
    )
    def get(self, request):
        vendor = self.require_owner(request)
        return paginated(self, request, selectors.vendor_api_token_list(vendor=vendor), VendorTokenOutput)


class VendorTokenRevokeAllApi(VendorTokensBase):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="vendor_tokens_revoke_all",
        request=None,
        responses={200: RevokedOutput, **errors(403)},
        summary="Revoke every API key of the vendor's members at once (owners only; yours too)",
        description=(
            "For a leak: every key that can act for the vendor stops working at once, including the one "
            "that sends this. A member's key acts for each of their vendors, so it goes for all of them."
        ),
    )
    def post(self, request):
        vendor = self.require_owner(request)
        return Response(RevokedOutput({"revoked": services.vendor_api_tokens_revoke(vendor=vendor)}).data)
