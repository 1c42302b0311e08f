"""Tests: MariaDB/MySQL through mysqlclient and a real Redis, on their own database numbers."""

import atexit
import shutil
import tempfile

from config.env import per_kind
from config.settings.base import *  # noqa: F403
from config.settings.base import env

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
# Concurrent test workers would fight over one metrics port: worker metrics only when a test asks.
if not env.int("DRAMATIQ_PROMETHEUS_PORT", default=0):
    DRAMATIQ_BROKER["MIDDLEWARE"].remove("dramatiq.middleware.prometheus.Prometheus")  # noqa: F405
    os.environ.pop("dramatiq_prom_port", None)  # noqa: F405
    os.environ.pop("dramatiq_prom_db", None)  # noqa: F405
# Each test run records its metrics in a directory of its own, not var/prometheus; the worker
# processes it starts inherit the variable, so they write where the run's /metrics reads.
# Directories made here are removed when the process that made them exits (the worker processes
# a test run starts are handed the run's, and make none).
_CREATOR = os.getpid()  # noqa: F405


def _temporary_dir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(lambda: os.getpid() == _CREATOR and shutil.rmtree(path, ignore_errors=True))  # noqa: F405
    return path


if not PROMETHEUS_DIR_GIVEN:  # noqa: F405
    PROMETHEUS_MULTIPROC_DIR = _temporary_dir("darkroom-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR  # noqa: F405

MEDIA_ROOT = Path(env("MEDIA_ROOT", default="") or _temporary_dir("darkroom-media-"))  # noqa: F405
STORAGE_BACKEND = "local"
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
# Test-only kinds whose timing and failures the tests control; see tests/support/processors.py.
DARKROOM_PROCESSORS = [  # noqa: F405
    *DARKROOM_PROCESSORS,  # noqa: F405
    "tests.support.sleepy",
    "tests.support.flaky",
    "tests.support.limited",
    "tests.support.isolated",
]
JOB_RETRY_BASE_S = {"remove_bg": 0.2, "face_crop": 0.2, "transform": 0.2, "sleepy": 0.2, "flaky": 0.3}
JOB_QUEUE_CAPACITY = {"remove_bg": 2, "face_crop": 2, "transform": 2, "sleepy": 2, "flaky": 2, "limited": 4}
JOB_RATE_LIMITS_PER_S = per_kind("JOB_RATE_LIMITS_PER_S", int, {"limited": 5})
DISPATCH_TICK_S = 0.2
# Job kinds and URL inputs (tests/jobs/kinds/, tests/lib/http/): test servers listen on
# loopback. Tests of the refusals turn this off with the `settings` fixture; worker processes
# see it as it is here.
IMAGE_FETCH_ALLOW_PRIVATE = True
# ... on random ports; tests of the port rule set these back to [80, 443].
IMAGE_FETCH_ALLOWED_PORTS: list[int] = []
WEBHOOK_ALLOWED_PORTS: list[int] = []
JOB_RETRY_BASE_S.update({"ai_endpoint": 0.2, "pipeline": 0.2})
# The port is chosen by tests/conftest.py before any worker process starts.
_AI = f"http://127.0.0.1:{env.int('DARKROOM_TEST_AI_PORT', default=9)}"
# One loopback server speaks every provider's API, each under its own path (tests/support/ai_providers.py).
AI_ENDPOINTS = {
    "e2e": {"url": f"{_AI}/generate", "timeout_s": 5},
    "e2e-claude": {
        "provider": "anthropic",
        "base_url": f"{_AI}/anthropic",
        "model": "claude-test",
        "api_key": "sk-ant-e2e-key-0123456789",
        "preset": "label_analysis",
        "timeout_s": 5,
        "max_concurrency": 2,
    },
    "e2e-gpt": {
        "provider": "openai",
        "base_url": f"{_AI}/openai/v1",
        "model": "gpt-test",
        "api_key": "sk-openai-e2e-key-0123456789",
        "timeout_s": 5,
    },
    "e2e-images": {
        "provider": "openai",
        "api": "images",
        "base_url": f"{_AI}/openai/v1",
        "model": "gpt-image-test",
        "api_key": "sk-openai-e2e-key-0123456789",
        "timeout_s": 5,
    },
    "e2e-json": {"provider": "json", "url": f"{_AI}/json", "timeout_s": 5},
}
# Webhook receivers in tests are http.server threads on loopback; retries come quickly.
WEBHOOK_ALLOW_PRIVATE_URLS = True
WEBHOOK_MIN_BACKOFF_MS = 100
WEBHOOK_MAX_BACKOFF_MS = 500
WEBHOOK_TIMEOUT_S = env.float("WEBHOOK_TIMEOUT_S", default=5)
# The shared test worker has two threads: one vendor's deliveries may hold one of them.
WEBHOOK_VENDOR_IN_FLIGHT = env.int("WEBHOOK_VENDOR_IN_FLIGHT", default=1)
WEBHOOK_QUEUE_CAPACITY = env.int("WEBHOOK_QUEUE_CAPACITY", default=4)
METRICS_ALLOW_LOOPBACK = True
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405
