"""How integrators' clients authenticate: with an API key in the Authorization header."""

from concurrent.futures import ThreadPoolExecutor

import requests
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


def parallel_posts(url: str, token: str, bodies: list[dict]) -> list[requests.Response]:
    """All at once (to a live server): each request on its own thread and connection."""

    def post(body):
        return requests.post(url, json=body, headers={"Authorization": f"Token {token}"}, timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))
