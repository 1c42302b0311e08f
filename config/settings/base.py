"""Settings shared by every environment, read from the environment (config/env.py): Django's own
here, the rest by topic in config/settings/topics/ (a topic imports what it reads of another).
local.py, production.py and test.py start from these."""

from config.env import BASE_DIR, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files from this app, not a CDN: /api/docs/ works offline and under the CSP.
    "drf_spectacular_sidecar",
    "django_dramatiq",
    "django_prometheus",
    "axes",
    "vendors",
    "processing.jobs",
    "processing.webhooks",
    "processing.engine",
    "processing.api",
    "processing.portal",
    "processing.admin",
    "processing.ops",
]

MIDDLEWARE = [
    # First, so every log line of the request carries its X-Request-ID (processing/ops/request_id.py).
    "processing.ops.request_id.RequestIdMiddleware",
    # HTTP request counts and latencies on /metrics; its After middleware closes the list.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every page (CONTENT_SECURITY_POLICY below); a stored file keeps
    # its own, stricter one (processing/lib/http/stored_files.py).
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: answers a locked-out sign-in with 429.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

from config.settings.topics.ai import *  # noqa: E402, F403
from config.settings.topics.api import *  # noqa: E402, F403
from config.settings.topics.auth import *  # noqa: E402, F403
from config.settings.topics.csp import *  # noqa: E402, F403
from config.settings.topics.database import *  # noqa: E402, F403
from config.settings.topics.dramatiq import *  # noqa: E402, F403
from config.settings.topics.events import *  # noqa: E402, F403
from config.settings.topics.images import *  # noqa: E402, F403
from config.settings.topics.jobs import *  # noqa: E402, F403
from config.settings.topics.logging import *  # noqa: E402, F403
from config.settings.topics.metrics import *  # noqa: E402, F403
from config.settings.topics.redis import *  # noqa: E402, F403
from config.settings.topics.rembg import *  # noqa: E402, F403
from config.settings.topics.request_bodies import *  # noqa: E402, F403
from config.settings.topics.request_limits import *  # noqa: E402, F403
from config.settings.topics.storage import *  # noqa: E402, F403
from config.settings.topics.webhooks import *  # noqa: E402, F403
