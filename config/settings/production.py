"""Production: secrets must come from the environment, logs are JSON, cookies are secure."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
LOG_JSON = env.bool("LOG_JSON", default=True)
LOGGING["root"]["level"] = env("LOG_LEVEL", default="INFO")  # noqa: F405
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_JSON else "plain"  # noqa: F405

# X-Forwarded-Proto is believed only when the operator says a proxy sets it (and the app is not
# reachable around that proxy): anyone could send the header otherwise.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS only: plain-HTTP requests are redirected, browsers told to stay on HTTPS for a year. The
# probes (/health/...) answer on plain HTTP too, for container checks; /metrics is not redirected
# either (a scraper would follow and send its token again) but answers plain HTTP only to
# METRICS_PLAIN_HTTP_NETWORKS, a 403 to anyone else (processing/ops/metrics.py).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^health$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# /metrics needs METRICS_TOKEN here, whoever asks (`check --deploy` says so when it is empty).
METRICS_ALLOW_LOOPBACK = False

# Static files under content-hashed names (admin.4f1c….css), so browsers and proxies may cache
# them for good; `collectstatic` writes them and the manifest, compressed, for whitenoise.
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
