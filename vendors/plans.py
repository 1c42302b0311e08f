"""The plans every installation starts with; operators edit them (and add more) in the admin."""

PLANS = [
    # The mission's limits.
    dict(
        slug="standard",
        name="Standard",
        image_requests_limit=50,
        image_requests_window_s=900,
        remove_bg_limit=30,
        remove_bg_window_s=3600,
        bulk_limit=10,
        bulk_window_s=3600,
        read_requests_limit=3600,
        read_requests_window_s=900,
        uploads_limit=200,
        uploads_window_s=3600,
        ai_calls_limit=500,
        ai_calls_window_s=86400,
        ai_tokens_limit=1_000_000,
        ai_tokens_window_s=86400,
        storage_bytes_limit=5 * 1024**3,
        max_in_flight=4,
        default_priority=20,
    ),
    dict(
        slug="premium",
        name="Premium",
        image_requests_limit=500,
        image_requests_window_s=900,
        remove_bg_limit=300,
        remove_bg_window_s=3600,
        bulk_limit=100,
        bulk_window_s=3600,
        read_requests_limit=18000,
        read_requests_window_s=900,
        uploads_limit=2000,
        uploads_window_s=3600,
        ai_calls_limit=5000,
        ai_calls_window_s=86400,
        ai_tokens_limit=10_000_000,
        ai_tokens_window_s=86400,
        storage_bytes_limit=100 * 1024**3,
        max_in_flight=16,
        default_priority=30,
    ),
    # No request limits: trusted integrators and load tests. Fair sharing still applies.
    dict(
        slug="unlimited",
        name="Unlimited",
        image_requests_limit=None,
        remove_bg_limit=None,
        bulk_limit=None,
        read_requests_limit=None,
        uploads_limit=None,
        ai_calls_limit=None,
        ai_tokens_limit=None,
        storage_bytes_limit=None,
        max_in_flight=64,
        default_priority=20,
    ),
]


def ensure_default_plans() -> None:
    """Create the default plans that are missing; never overwrite an operator's edits."""
    # The data migration 0002 reads PLANS from this module: it must not load the current models.
    from vendors.models import Plan  # noqa: PLC0415

    for plan in PLANS:
        Plan.objects.get_or_create(slug=plan["slug"], defaults=plan)
