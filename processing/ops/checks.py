"""Deploy checks (`manage.py check --deploy`): refuse to call a deployment ready while a secret is
still a placeholder from .env.example or compose, or /metrics has no token."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

# What .env.example, docker-compose.yml and the base settings put where a secret belongs.
PLACEHOLDERS = frozenset({"secret", "password", "darkroom", "changeme", "change-me", "change-me-too"})


def is_placeholder(value: str | None) -> bool:
    """Empty, a known placeholder, or anything that says to change it."""
    if not value:
        return True
    lowered = value.strip().lower()
    return (
        lowered in PLACEHOLDERS
        or "change-me" in lowered
        or "changeme" in lowered
        or lowered.startswith("django-insecure")
    )


def _secrets() -> list[tuple[str, str | None]]:
    """(where, value) of every secret set; an unset optional secret is not listed."""
    found: list[tuple[str, str | None]] = [("DJANGO_SECRET_KEY", settings.SECRET_KEY)]
    for alias, database in settings.DATABASES.items():
        if database.get("ENGINE", "").endswith("sqlite3"):
            continue
        found.append((f"the password of database {alias!r} (DATABASE_URL)", database.get("PASSWORD")))
    if settings.METRICS_TOKEN:
        found.append(("METRICS_TOKEN", settings.METRICS_TOKEN))
    redis_password = urlsplit(settings.REDIS_URL).password
    if redis_password:
        found.append(("the password in REDIS_URL", redis_password))
    aws = settings.STORAGES.get("default", {}).get("OPTIONS", {}).get("secret_key")
    if aws:
        found.append(("AWS_SECRET_ACCESS_KEY", aws))
    cloudinary = urlsplit(settings.CLOUDINARY_URL).password if settings.CLOUDINARY_URL else None
    if cloudinary:
        found.append(("the API secret in CLOUDINARY_URL", cloudinary))
    for name, endpoint in (settings.AI_ENDPOINTS or {}).items():
        for header, value in ((endpoint or {}).get("headers") or {}).items():
            token = str(value).split(" ", 1)[-1]
            found.append((f"header {header} of AI endpoint {name!r} (AI_ENDPOINTS)", token))
        if (endpoint or {}).get("api_key"):
            found.append((f"api_key of AI endpoint {name!r} (AI_ENDPOINTS)", endpoint["api_key"]))
    return found


@register(Tags.security, deploy=True)
def placeholder_secrets(app_configs, **kwargs) -> list[Error]:
    return [
        Error(
            f"{where} is empty or a placeholder from .env.example",
            hint="Set a long random value (python -c 'import secrets; print(secrets.token_urlsafe(48))').",
            id="darkroom.E001",
        )
        for where, value in _secrets()
        if is_placeholder(value)
    ]


@register(Tags.security, deploy=True)
def metrics_token(app_configs, **kwargs) -> list[Error]:
    if settings.METRICS_TOKEN or settings.METRICS_ALLOW_LOOPBACK:
        return []
    return [
        Error(
            "METRICS_TOKEN is empty: /metrics refuses every caller",
            hint="Set METRICS_TOKEN and give it to Prometheus as a bearer token.",
            id="darkroom.E002",
        )
    ]
