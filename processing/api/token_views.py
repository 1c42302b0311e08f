"""The caller's own API keys: list (prefixes only), make, rotate, revoke. A key is shown once,
in the answer that makes or rotates it; only its hash is kept."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from processing.api.base import DarkroomApiView, parse_id, path_parameter
from processing.api.inputs import valid_input
from processing.api.pagination import PAGE_PARAMETERS, Pagination, paginated
from processing.api.parsers import BoundedJSONParser
from processing.api.schema import errors
from processing.lib.found import found
from vendors import selectors, services


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, default="default")
    ttl_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        help_text="Days until it expires (0: never); default API_TOKEN_TTL_DAYS.",
    )


class RotateInput(serializers.Serializer):
    ttl_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)


class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to tell keys apart.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


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
        responses={201: TokenCreatedOutput, **errors(400, 409, 415)},
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
        responses={200: TokenCreatedOutput, **errors(400, 404, 415)},
        summary="A new key for an API key (shown once); the old one stops working at once",
    )
    def post(self, request, token_id):
        token = self.get_object(request, token_id)
        data = valid_input(RotateInput, request)
        token, key = services.api_token_rotate(token=token, ttl_days=data.get("ttl_days"))
        return Response(TokenCreatedOutput(_created(token, key)).data)
