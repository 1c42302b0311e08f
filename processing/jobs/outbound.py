"""Which addresses a job's outbound requests may reach, from the settings."""

from django.conf import settings

from processing.lib.http.guard import AddressPolicy


def url_input_policy() -> AddressPolicy:
    """For images fetched by URL: public addresses only, unless allowed (tests) or listed."""
    return AddressPolicy(
        allow_private=settings.IMAGE_FETCH_ALLOW_PRIVATE,
        allowlist=frozenset(settings.IMAGE_FETCH_PRIVATE_ALLOWLIST),
        ports=frozenset(settings.IMAGE_FETCH_ALLOWED_PORTS) or None,
    )
