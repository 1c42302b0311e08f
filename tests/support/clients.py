"""How integrators' clients authenticate: with an API key in the Authorization header."""

from rest_framework.test import APIClient

from vendors.services import api_token_for


def token_headers(user) -> dict[str, str]:
    """What an integrator's HTTP client sends to authenticate, with a new API key of `user`."""
    return {"Authorization": f"Token {api_token_for(user=user)}"}


def client_with_key(key: str, keyword: str = "Token") -> APIClient:
    """An API client that sends `<keyword> <key>` with every request."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def client_for(user) -> APIClient:
    """An API client with a new API key of `user`."""
    return client_with_key(api_token_for(user=user))
