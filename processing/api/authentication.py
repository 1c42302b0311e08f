"""API keys: `Authorization: Token <key>` (what clients have always sent) or `Bearer <key>`,
checked against the stored SHA-256 of each key (vendors.ApiToken)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from vendors.services import api_token_use

KEYWORDS = {"token", "bearer"}


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].decode(errors="replace").lower() not in KEYWORDS:
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed("give the key after the keyword: `Token <key>`")
        try:
            key = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("invalid token") from None
        token = api_token_use(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "processing.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` or `Bearer <key>`; make keys under /api/v1/tokens/ or in the portal.",
        }
