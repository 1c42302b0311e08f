"""Tests: MariaDB/MySQL through mysqlclient and a real Redis, on their own database numbers."""

import tempfile

from .base import *  # noqa: F403
from .base import env

DATABASES = {"default": env.db("TEST_DATABASE_URL", default="mysql://root@127.0.0.1:3306/darkroom")}
DATABASES["default"].setdefault("OPTIONS", {}).update(
    {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
)
# A worker subprocess is pointed at the test database by name; see tests/worker.py.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_darkroom")}

REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
DRAMATIQ_BROKER["OPTIONS"]["url"] = REDIS_URL  # noqa: F405
DRAMATIQ_BROKER["OPTIONS"]["namespace"] = "darkroom-test"  # noqa: F405

MEDIA_ROOT = Path(env("MEDIA_ROOT", default=tempfile.mkdtemp(prefix="darkroom-media-")))  # noqa: F405
SERVE_MEDIA = True
STORAGE_BACKEND = "local"
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
JOB_RETRY_BACKOFF_S = 0.2
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405
