import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DARKROOM_ASGI", "true")  # the web process: database connections from a pool
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402  (after setup)

from processing.lib.http.body_limit import RequestBodyLimit  # noqa: E402

# Bodies over REQUEST_MAX_BYTES, and JSON bodies over JSON_BODY_MAX_BYTES, are refused before
# Django reads (and spools) them.
application = RequestBodyLimit(
    django_application,
    max_bytes=lambda: settings.REQUEST_MAX_BYTES,
    json_max_bytes=lambda: settings.JSON_BODY_MAX_BYTES,
)
