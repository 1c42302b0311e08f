"""Production: secrets must come from the environment, logs are JSON, cookies are secure."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
LOG_JSON = env.bool("LOG_JSON", default=True)
LOGGING["root"]["level"] = env("LOG_LEVEL", default="INFO")  # noqa: F405
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_JSON else "plain"  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True

# Static files under content-hashed names (admin.4f1c….css), so browsers and proxies may cache
# them for good; `collectstatic` writes them and the manifest, compressed, for whitenoise.
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
