"""Settings shared by every environment, read from the environment (django-environ)."""

import ipaddress
import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

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

# --- Database: MySQL is the database of record; SQLite only for the quick start.


def pooled_for_asgi(database: dict) -> None:
    """Under ASGI, Django runs each request's sync code in a thread of its own (asgiref's
    ThreadSensitiveContext per request), so a persistent connection is never used twice: every
    request opened one, and CONN_MAX_AGE left it open. A web process instead borrows from a pool
    its threads share (SQLAlchemy's QueuePool, checked with a ping) and gives the connection back
    at the end of each request. Workers keep their threads, so CONN_MAX_AGE serves them."""
    if database["ENGINE"] != "django.db.backends.mysql" or not env.bool("DARKROOM_ASGI", default=False):
        return
    database.update(
        ENGINE="dj_db_conn_pool.backends.mysql",
        CONN_MAX_AGE=0,
        POOL_OPTIONS={
            "POOL_SIZE": env.int("DATABASE_POOL_SIZE", default=10),
            "MAX_OVERFLOW": env.int("DATABASE_POOL_OVERFLOW", default=5),
            "TIMEOUT": env.int("DATABASE_POOL_TIMEOUT_S", default=20),
            "RECYCLE": 600,
            "PRE_PING": True,
        },
    )


DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    pooled_for_asgi(DATABASES["default"])
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write concurrently: wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="darkroom"),
        "OPTIONS": {
            # Short timeouts: a Redis outage must not hold up a request or a worker for long.
            "CONNECTION_POOL_KWARGS": {"health_check_interval": 30, "socket_connect_timeout": 2, "socket_timeout": 5},
        },
    }
}

# --- Dramatiq. Worker knobs are set on purpose for this workload; see docs/architecture.md.
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {
        "url": REDIS_URL,
        "namespace": env("DRAMATIQ_NAMESPACE", default="darkroom"),
        # A message held by a worker that stops heart-beating is given back after this long.
        "heartbeat_timeout": env.int("DRAMATIQ_HEARTBEAT_TIMEOUT_MS", default=30_000),
    },
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.CurrentMessage",
        "processing.engine.db_connections.DbConnections",
        "periodiq.PeriodiqMiddleware",
        "processing.engine.model_check.ModelCheck",
        "processing.engine.maintenance.Maintenance",
        "processing.webhooks.middleware.DeliveryTicks",
        "processing.engine.leases.LeaseRenewal",
        "processing.engine.registry.WorkerRegistry",
    ],
}
DRAMATIQ_TASKS_DATABASE = "default"
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
# Threads per worker process: two threads share one onnxruntime session (fastest on 2 cores).
DRAMATIQ_THREADS = env.int("DRAMATIQ_THREADS", default=2)
DRAMATIQ_PROCESSES = env.int("DRAMATIQ_PROCESSES", default=1)
# Dramatiq's 1000 ms default makes an idle worker take ~300 ms to pick a job up; 100 ms takes ~20 ms.
DRAMATIQ_WORKER_TIMEOUT_MS = env.int("DRAMATIQ_WORKER_TIMEOUT_MS", default=100)
# Prefetch 2x threads caps short jobs at ~530/s; 64 reaches ~4,900/s. Admission control keeps
# the queues short, so a large prefetch cannot hoard a backlog.
DRAMATIQ_QUEUE_PREFETCH = env.int("DRAMATIQ_QUEUE_PREFETCH", default=64)
# Dramatiq and `rundramatiq` read these knobs only from the process environment, at import time;
# settings load before either, and `rundramatiq` execs the worker with this environment.
os.environ.setdefault("DRAMATIQ_NPROCS", str(DRAMATIQ_PROCESSES))
os.environ.setdefault("DRAMATIQ_NTHREADS", str(DRAMATIQ_THREADS))
os.environ.setdefault("dramatiq_worker_timeout", str(DRAMATIQ_WORKER_TIMEOUT_MS))
os.environ.setdefault("dramatiq_queue_prefetch", str(DRAMATIQ_QUEUE_PREFETCH))
# --- Prometheus, multiprocess mode: every process of this host (web workers, worker processes)
# records its counters and histograms in files under PROMETHEUS_MULTIPROC_DIR, and /metrics sums
# them up (processing/ops/metrics.py). It must be in the environment before prometheus_client is
# first imported, which settings precede. Empty it when the host's services start (docs/metrics.md).
PROMETHEUS_DIR_GIVEN = "PROMETHEUS_MULTIPROC_DIR" in os.environ
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default=str(BASE_DIR / "var" / "prometheus"))
os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
# Dramatiq's worker metrics (messages, errors, retries, durations), served by each worker on
# its own HTTP port (GET any path) with ours; 0 turns them off. Workers sharing a host need
# distinct ports. Dramatiq points PROMETHEUS_MULTIPROC_DIR at its own dir when a worker boots,
# so that dir is ours by default: the worker's job metrics and Dramatiq's share one set of files.
DRAMATIQ_PROMETHEUS_PORT = env.int("DRAMATIQ_PROMETHEUS_PORT", default=9191)
# Dramatiq binds 0.0.0.0 unless told; loopback by default, so the port is not open to the world.
DRAMATIQ_PROMETHEUS_HOST = env("DRAMATIQ_PROMETHEUS_HOST", default="127.0.0.1")
if DRAMATIQ_PROMETHEUS_PORT:
    DRAMATIQ_BROKER["MIDDLEWARE"].append("dramatiq.middleware.prometheus.Prometheus")
    os.environ.setdefault("dramatiq_prom_port", str(DRAMATIQ_PROMETHEUS_PORT))
    os.environ.setdefault("dramatiq_prom_host", DRAMATIQ_PROMETHEUS_HOST)
    os.environ["dramatiq_prom_db"] = PROMETHEUS_MULTIPROC_DIR

# --- Metrics (/metrics, processing/ops/metrics.py): a bearer token, or empty to serve loopback only.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Without a token, serve callers from loopback? Only on a developer's machine (local settings):
# a proxy on the same host looks like loopback. Production settings never do.
METRICS_ALLOW_LOOPBACK = env.bool("METRICS_ALLOW_LOOPBACK", default=False)
# /metrics carries its bearer token, so it answers over HTTPS; over plain HTTP only to a scraper
# connecting straight from these networks (loopback by default; add the network Prometheus scrapes
# from inside, e.g. the compose network's subnet). Anyone else gets a 403, token or not, and so
# does a request a proxy says came in over plain HTTP (X-Forwarded-Proto). docs/metrics.md.
METRICS_PLAIN_HTTP_NETWORKS = env.list("METRICS_PLAIN_HTTP_NETWORKS", default=["127.0.0.0/8", "::1/128"])
for _network in METRICS_PLAIN_HTTP_NETWORKS:  # a typo fails at start, not at the first scrape
    ipaddress.ip_network(_network, strict=False)

# --- Storage: local files by default; S3 (django-storages) or Cloudinary by setting.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = env("MEDIA_URL", default="/media/")
# Media is private (processing/lib/media.py, docs/data.md "Who can read what"). `signed`: links
# that work for MEDIA_URL_EXPIRE_S (local files signed by Darkroom, S3 presigned, Cloudinary
# authenticated and signed); `proxied`: /media/<name> answered only to the vendor's members and
# operators, after a check on each request.
MEDIA_DELIVERY = env("MEDIA_DELIVERY", default="signed")
if MEDIA_DELIVERY not in ("signed", "proxied"):
    raise environ.ImproperlyConfigured(f"MEDIA_DELIVERY must be signed or proxied, not {MEDIA_DELIVERY!r}")
MEDIA_URL_EXPIRE_S = env.int("MEDIA_URL_EXPIRE_S", default=3600)
# Local files only: hand a checked request's file to the front proxy (nginx's X-Accel-Redirect)
# at this internal location (e.g. /_media/, an `internal` alias of MEDIA_ROOT) instead of
# streaming it from Python. Empty: Darkroom streams the file itself.
MEDIA_ACCEL_REDIRECT = env("MEDIA_ACCEL_REDIRECT", default="")
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_URL = "/static/"
STORAGE_BACKEND = env("STORAGE_BACKEND", default="local")
_STORAGE_BACKENDS = {
    "local": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME", default=""),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "file_overwrite": False,
            "querystring_auth": True,  # presigned URLs: a bucket's objects are never public
            "querystring_expire": env.int("MEDIA_URL_EXPIRE_S", default=3600),
            "default_acl": "private",
            "signature_version": "s3v4",  # presigned URLs that carry their own expiry
        },
    },
    # Images as Cloudinary `image` resources, JSON results as `raw`; see the module.
    "cloudinary": {"BACKEND": "processing.lib.cloudinary_storage.CloudinaryStorage"},
}
if STORAGE_BACKEND not in _STORAGE_BACKENDS:
    raise environ.ImproperlyConfigured(
        f"STORAGE_BACKEND must be one of {sorted(_STORAGE_BACKENDS)}, not {STORAGE_BACKEND!r}"
    )
STORAGES = {
    "default": _STORAGE_BACKENDS[STORAGE_BACKEND],
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# cloudinary://api_key:api_secret@cloud_name; the storage hands it to the SDK itself.
CLOUDINARY_URL = env("CLOUDINARY_URL", default="")
if STORAGE_BACKEND == "cloudinary" and not CLOUDINARY_URL:
    raise environ.ImproperlyConfigured("STORAGE_BACKEND=cloudinary needs CLOUDINARY_URL")

# --- rembg models.
REMBG_HOME = env("REMBG_HOME", default=str(BASE_DIR / "var" / "rembg"))
REMBG_MODEL = env("REMBG_MODEL", default="u2netp")
# Models a job may ask for; each must be present in REMBG_HOME (manage.py fetch_models).
REMBG_ALLOWED_MODELS = env.list("REMBG_ALLOWED_MODELS", default=[REMBG_MODEL])
# ViTMatte edge-refinement variants a job may ask for (rembg's small-distinctions-646, …); each
# must be installed by fetch_models first (110-380 MB each), so none is offered by default.
REMBG_VITMATTE_MODELS = env.list("REMBG_VITMATTE_MODELS", default=[])
REMBG_MAX_SESSIONS = env.int("REMBG_MAX_SESSIONS", default=2)
# onnxruntime threads per session; 0 gives one inference at a time every core (with
# ONNX_SERIAL_INFERENCE), else shares the cores out between the worker's threads.
ONNX_INTRA_OP_THREADS = env.int("ONNX_INTRA_OP_THREADS", default=0)
# Chosen by bench/processors_rembg_memory.py and bench/rembg_speed.py (docs/benchmarks.md,
# "Worker memory"): one inference at a time per process with the CPU arena on and the memory
# pattern off keeps a 2-thread worker near 600-700 MiB (one run's buffers, kept between runs)
# and is faster than the arena off (buffers given back, faulted in again each run: ~330 MiB
# with jemalloc, 25-30 % slower). Both concurrent with the arena: fastest, ~1.1 GiB.
ONNX_SERIAL_INFERENCE = env.bool("ONNX_SERIAL_INFERENCE", default=True)
ONNX_MEM_PATTERN = env.bool("ONNX_MEM_PATTERN", default=False)
ONNX_CPU_MEM_ARENA = env.bool("ONNX_CPU_MEM_ARENA", default=True)
# Execution providers a worker's rembg sessions run on, in order of preference (e.g.
# CUDAExecutionProvider,CPUExecutionProvider). One the installed onnxruntime lacks stops the
# worker at start-up, unless REMBG_PROVIDER_FALLBACK=cpu lets it run on the CPU instead.
REMBG_PROVIDERS = env.list("REMBG_PROVIDERS", default=["CPUExecutionProvider"])
REMBG_PROVIDER_FALLBACK = env("REMBG_PROVIDER_FALLBACK", default="")
if REMBG_PROVIDER_FALLBACK not in ("", "cpu"):
    raise environ.ImproperlyConfigured("REMBG_PROVIDER_FALLBACK must be empty (refuse) or cpu")
# local: rembg runs in the worker. remote: on the `rembg s` servers in REMBG_URLS, in turn;
# a failing server is skipped for REMBG_URL_RETRY_S, then health-checked before it gets work.
REMBG_BACKEND = env("REMBG_BACKEND", default="local")
REMBG_URLS = env.list("REMBG_URLS", default=[])
REMBG_URL_RETRY_S = env.float("REMBG_URL_RETRY_S", default=30)
REMBG_REMOTE_TIMEOUT_S = env.float("REMBG_REMOTE_TIMEOUT_S", default=120)
if REMBG_BACKEND not in ("local", "remote") or (REMBG_BACKEND == "remote" and not REMBG_URLS):
    raise environ.ImproperlyConfigured("REMBG_BACKEND must be local, or remote with REMBG_URLS set")

# --- Image limits.
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=25 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=50_000_000)
IMAGE_FETCH_TIMEOUT_S = env.float("IMAGE_FETCH_TIMEOUT_S", default=20)
# Input URLs that resolve to private, loopback or link-local addresses are refused, unless this
# is on (tests) or the exact "address:port" is listed (an internal image store).
IMAGE_FETCH_ALLOW_PRIVATE = env.bool("IMAGE_FETCH_ALLOW_PRIVATE", default=False)
IMAGE_FETCH_PRIVATE_ALLOWLIST = env.list("IMAGE_FETCH_PRIVATE_ALLOWLIST", default=[])
# The ports an input URL may name (an "address:port" in the allowlist is allowed too); empty: any.
IMAGE_FETCH_ALLOWED_PORTS = env.list("IMAGE_FETCH_ALLOWED_PORTS", cast=int, default=[80, 443])

# --- Outside AI endpoints (kind ai_endpoint), as JSON: {"name": {"provider": "anthropic" |
# "openai" | "json" | "multipart" (default), "url" or "base_url", "model", "api_key" or
# "api_key_env", "timeout_s", "max_concurrency", "rate_per_s", "preset", "schema", ...}}; every key
# is in docs/ai.md. After AI_CIRCUIT_FAILURES failures in a row an endpoint is not called for
# AI_CIRCUIT_OPEN_S seconds, by any worker. A call waits up to AI_SLOT_WAIT_S for a slot of its
# endpoint's max_concurrency or rate_per_s, then the attempt is retried later (ai_busy).
AI_ENDPOINTS = env.json("AI_ENDPOINTS", default={})
AI_CIRCUIT_FAILURES = env.int("AI_CIRCUIT_FAILURES", default=5)
AI_CIRCUIT_OPEN_S = env.float("AI_CIRCUIT_OPEN_S", default=30)
AI_SLOT_WAIT_S = env.float("AI_SLOT_WAIT_S", default=10)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMAGE_MAX_BYTES + 1024 * 1024
# The largest request body accepted at all (config/asgi.py refuses more with 413 before Django
# reads it): a few uploads' worth. Larger bulks go by record ids or image URLs.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=4 * IMAGE_MAX_BYTES + 1024 * 1024)
# A JSON body (API) is bounded far lower, before it is parsed: over JSON_BODY_MAX_BYTES is a 413
# (before Django reads it, under ASGI), more than JSON_MAX_ITEMS values or containers or nesting
# deeper than JSON_MAX_DEPTH a 400 (processing/api/parsers.py). 2 MiB holds the largest legitimate
# body, a bulk of BULK_MAX_ITEMS (1,000) URLs of 2,000 characters each with 16 KB of params.
JSON_BODY_MAX_BYTES = env.int("JSON_BODY_MAX_BYTES", default=2 * 1024 * 1024)
JSON_MAX_ITEMS = env.int("JSON_MAX_ITEMS", default=50_000)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Jobs.
# Each module defines PROCESSOR: its kind, queue, parameters, inputs and retry policy.
DARKROOM_PROCESSORS = [
    "processing.jobs.kinds.remove_bg",
    "processing.jobs.kinds.face_crop",
    "processing.jobs.kinds.transform",
    "processing.jobs.kinds.pipeline",
    "processing.jobs.kinds.ai_endpoint",
]
# Most jobs one batch may hold, from the API's bulk requests and the portal's "start on all".
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=1000)
# Most bytes of a job's params as compact JSON: options, not payloads.
JOB_PARAMS_MAX_BYTES = env.int("JOB_PARAMS_MAX_BYTES", default=16 * 1024)
# Global throughput per kind, shared by every worker through Redis, e.g. "remote_ai=10".
JOB_RATE_LIMITS_PER_S = env.dict("JOB_RATE_LIMITS_PER_S", cast={"value": int}, default={})
# How long a worker thread waits for a rate-limit slot before handing the job back for later.
JOB_RATE_LIMIT_WAIT_S = env.float("JOB_RATE_LIMIT_WAIT_S", default=5)
# Retry backoff base per kind (seconds); attempt n waits about base * 2**(n-1), with jitter.
JOB_RETRY_BASE_S = env.dict("JOB_RETRY_BASE_S", cast={"value": float}, default={})
JOB_TIME_LIMIT_S = env.int("JOB_TIME_LIMIT_S", default=300)
# Media storage full or unreachable while a result is written (processing/lib/outages.py
# storage_fault): the job waits and tries again, JOB_STORAGE_RETRY_BASE_S * 2**n (at most
# JOB_STORAGE_RETRY_MAX_S) after its n-th wait, and the attempt is given back. A separate budget
# of JOB_STORAGE_WAITS waits (2+4+...+60: about 8 minutes by default); past it, storage failures
# count as attempts like any retryable error.
JOB_STORAGE_RETRY_BASE_S = env.float("JOB_STORAGE_RETRY_BASE_S", default=2)
JOB_STORAGE_RETRY_MAX_S = env.float("JOB_STORAGE_RETRY_MAX_S", default=60)
JOB_STORAGE_WAITS = env.int("JOB_STORAGE_WAITS", default=12)
# A running job's lease (processing/engine/leases.py): its worker process renews it every
# JOB_LEASE_RENEW_S whatever the job does; a job whose lease ran out (its worker died or froze)
# is taken back, which counts as an attempt. A step may take any time up to JOB_TIME_LIMIT_S.
JOB_LEASE_S = env.float("JOB_LEASE_S", default=30)
JOB_LEASE_RENEW_S = env.float("JOB_LEASE_RENEW_S", default=2)
# A job handed to Dramatiq whose message is no longer in Redis (nor in a live worker's hands) is
# handed over again: looked for every LOST_MESSAGE_CHECK_S among jobs dispatched that long ago.
LOST_MESSAGE_CHECK_S = env.float("LOST_MESSAGE_CHECK_S", default=5)
# The same, by age alone, on a broker that cannot be looked into (tests' stub broker).
JOB_STALL_TIMEOUT_S = env.int("JOB_STALL_TIMEOUT_S", default=120)
# Retention: finished jobs are removed after these many hours, checked on this cron schedule.
JOB_RETENTION_SUCCEEDED_H = env.float("JOB_RETENTION_SUCCEEDED_H", default=24)
JOB_RETENTION_FAILED_H = env.float("JOB_RETENTION_FAILED_H", default=7 * 24)
JOB_RETENTION_CRON = env("JOB_RETENTION_CRON", default="0 */6 * * *")
# A result file a run may have left (its worker died, or it ran on after its record was
# deleted) is removed by the retention run this long after the run was given up (seconds).
RESULT_ORPHAN_GRACE_S = env.int("RESULT_ORPHAN_GRACE_S", default=3600)
# Each retention run deletes at most this many records past their vendor's retention (and of
# projects whose background deletion stopped), and removes at most this many files of the
# deletion journal (docs/data.md); what is left waits for the next run.
RETENTION_RECORDS_PER_RUN = env.int("RETENTION_RECORDS_PER_RUN", default=20_000)
STORAGE_DELETIONS_PER_RUN = env.int("STORAGE_DELETIONS_PER_RUN", default=100_000)
# The usage ledger (docs/usage.md). Off only to measure what it costs (make bench): billing reads it.
USAGE_LEDGER = env.bool("USAGE_LEDGER", default=True)
# The usage ledger outlives jobs. When a vendor is deleted its rows are kept under
# its slug ("keep"), kept under a pseudonym ("pseudonymise") or removed ("delete").
USAGE_ON_VENDOR_DELETE = env("USAGE_ON_VENDOR_DELETE", default="keep")
if USAGE_ON_VENDOR_DELETE not in {"keep", "pseudonymise", "delete"}:
    raise ValueError(f"USAGE_ON_VENDOR_DELETE must be keep, pseudonymise or delete, not {USAGE_ON_VENDOR_DELETE!r}")
# When the scheduler samples each vendor's stored bytes into the ledger (UTC cron).
USAGE_STORAGE_SAMPLE_CRON = env("USAGE_STORAGE_SAMPLE_CRON", default="55 23 * * *")
# A vendor's export (a ZIP of its photos, results and manifest) can be downloaded this many hours
# after it is ready; the retention run then removes it from storage (docs/data.md, "Export").
EXPORT_TTL_HOURS = env.float("EXPORT_TTL_HOURS", default=72)
# Admission control: messages of a kind handed to Dramatiq and not yet finished. Size it to the
# worker threads serving that queue across the fleet, plus a little so threads never idle.
JOB_QUEUE_CAPACITY = env.dict(
    "JOB_QUEUE_CAPACITY", cast={"value": int}, default={"remove_bg": 4, "face_crop": 4, "transform": 8}
)
JOB_QUEUE_CAPACITY_DEFAULT = env.int("JOB_QUEUE_CAPACITY_DEFAULT", default=4)
# How often each worker admits waiting jobs whose retry delay has passed and recovers stalled ones.
DISPATCH_TICK_S = env.float("DISPATCH_TICK_S", default=1.0)
# Worker registry (processing/engine/registry.py): each worker process beats this often; the admin shows
# a worker silent for longer than WORKER_LOST_AFTER_S as lost, until its record expires.
WORKER_HEARTBEAT_S = env.float("WORKER_HEARTBEAT_S", default=5.0)
WORKER_LOST_AFTER_S = env.float("WORKER_LOST_AFTER_S", default=30.0)
WORKER_RECORD_TTL_S = env.int("WORKER_RECORD_TTL_S", default=24 * 3600)

# With the database or Redis away, every request answers 503 with this Retry-After (seconds).
OUTAGE_RETRY_AFTER_S = env.int("OUTAGE_RETRY_AFTER_S", default=5)

# --- Request limits. Vendor quotas come from their plan (vendors/quotas.py); this one is per
# IP, for anonymous callers and sign-in attempts (django-ratelimit over the Redis cache).
ANON_RATE_LIMIT = env("ANON_RATE_LIMIT", default="100/15m")
# The proxies in front of the web server (addresses or networks; "*": any peer). Only from these
# is X-Forwarded-For believed, read from the right past them: for the anonymous limit, sign-in
# lockouts (vendors.quotas.client_ip) and, from the same variable, gunicorn and uvicorn's own
# client address. Behind a proxy that is not listed, every client shares the proxy's address.
TRUSTED_PROXIES = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
RATELIMIT_IP_META_KEY = "vendors.quotas.client_ip"

# --- Live events (GET /api/v1/events/): a stream re-reads its job or batch this often even
# without a change notice, and sends a comment line after this long without an event. Every
# change publishes a notice, so the re-read is only a safety net: kept rare, it costs little
# with many streams open (100 streams at 2 s were 50 reads a second).
EVENTS_REREAD_S = env.float("EVENTS_REREAD_S", default=10.0)
EVENTS_HEARTBEAT_S = env.float("EVENTS_HEARTBEAT_S", default=15.0)
# A vendor's open event streams at once (429 beyond), and a stream's longest life (then it
# closes and the client reconnects).
EVENTS_MAX_STREAMS_PER_VENDOR = env.int("EVENTS_MAX_STREAMS_PER_VENDOR", default=50)
EVENTS_MAX_STREAM_S = env.float("EVENTS_MAX_STREAM_S", default=3600)

# --- Webhooks (docs/webhooks.md): delivered by the `webhooks` queue's actor, retried with
# exponential backoff from WEBHOOK_MIN_BACKOFF_MS up to WEBHOOK_MAX_BACKOFF_MS.
WEBHOOK_TIMEOUT_S = env.float("WEBHOOK_TIMEOUT_S", default=10)
# Every event goes to each of a vendor's endpoints: so few of them.
WEBHOOK_MAX_ENDPOINTS = env.int("WEBHOOK_MAX_ENDPOINTS", default=20)
WEBHOOK_MAX_RETRIES = env.int("WEBHOOK_MAX_RETRIES", default=8)
WEBHOOK_MIN_BACKOFF_MS = env.int("WEBHOOK_MIN_BACKOFF_MS", default=5_000)
WEBHOOK_MAX_BACKOFF_MS = env.int("WEBHOOK_MAX_BACKOFF_MS", default=3_600_000)
# Fairness between vendors (processing/webhooks/admission.py): deliveries wait in the database
# and are handed to the `webhooks` queue at most WEBHOOK_VENDOR_IN_FLIGHT per vendor and
# WEBHOOK_QUEUE_CAPACITY in all, round-robin between vendors. Keep the webhooks worker's threads
# (WEBHOOK_THREADS) above the per-vendor number: one vendor's slow receivers then never hold
# every thread, and another vendor's delivery starts at once.
WEBHOOK_VENDOR_IN_FLIGHT = env.int("WEBHOOK_VENDOR_IN_FLIGHT", default=2)
WEBHOOK_QUEUE_CAPACITY = env.int("WEBHOOK_QUEUE_CAPACITY", default=8)
# After POST /api/v1/webhooks/{id}/rotate-secret/, deliveries are signed with the old secret
# too for this many hours, so receivers can switch to the new one without missing a delivery.
WEBHOOK_SECRET_GRACE_H = env.float("WEBHOOK_SECRET_GRACE_H", default=24)
# Receivers on private, loopback or link-local addresses are refused unless this is set.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# The ports a webhook receiver's URL may name; empty: any.
WEBHOOK_ALLOWED_PORTS = env.list("WEBHOOK_ALLOWED_PORTS", cast=int, default=[80, 443])

# Our own user model (vendors.User), in place before there is production data; docs/user-model.md.
AUTH_USER_MODEL = "vendors.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Every sign-in (portal, admin) goes through django-axes: after AXES_FAILURE_LIMIT failures from
# one IP (the client's, behind TRUSTED_PROXIES), further attempts from it are refused (429) for
# AXES_COOLOFF_H hours or until an operator deletes the attempts (admin "Access attempts", or
# `axes_reset_username`). A username is locked only for the IP that guessed it: others' guesses
# cannot lock an operator out. Guesses at one username from many IPs raise an alert instead
# (an ERROR log line, `vendors.sign_in`) at AXES_USERNAME_ALERT_FAILURES within the cool-off.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_H", default=1)
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "vendors.quotas.client_ip"
AXES_USERNAME_ALERT_FAILURES = env.int("AXES_USERNAME_ALERT_FAILURES", default=50)
AXES_RESET_ON_SUCCESS = True
# API tokens expire this many days after they are made or rotated (0: never).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=365)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token <key>` or `Bearer <key>`, checked against stored hashes.
        "processing.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "processing.api.errors.exception_handler",
    # JSON bounded before it is parsed (JSON_BODY_MAX_BYTES, JSON_MAX_ITEMS, JSON_MAX_DEPTH).
    "DEFAULT_PARSER_CLASSES": [
        "processing.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Darkroom API",
    "DESCRIPTION": "Image-processing jobs for vendors: background removal, face crop, transforms.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for generated clients: a job's state keeps its name beside the other `state`s.
    "ENUM_NAME_OVERRIDES": {"StateEnum": "processing.jobs.states.JobState"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "processing.api.schema.no_null_characters",
        "processing.api.schema.required_request_bodies",
    ],
}

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    # job_id, vendor, kind and attempt on every line logged while a job runs, request_id on every
    # line logged while a request is served or a job it created runs (processing/lib/logcontext.py).
    "filters": {"job_context": {"()": "processing.lib.logcontext.JobContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["job_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Content-Security-Policy (django-csp): scripts only from this origin (an inline one needs the
# request's nonce, `{{ request.csp_nonce }}`); inline styles are allowed (the admin and Swagger
# UI use them). Images from a media origin elsewhere go in CSP_IMG_SRC.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CSP_IMG_SRC = env.list("CSP_IMG_SRC", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:", *CSP_IMG_SRC],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
