"""Dramatiq: the broker, its worker middlewares and the worker's knobs."""

import os

from config.env import env
from config.settings.topics.redis import REDIS_URL

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
