"""Metrics: Prometheus in multiprocess mode, Dramatiq's worker metrics, who may read /metrics."""

import ipaddress
import os

from config.env import BASE_DIR, env
from config.settings.topics.dramatiq import DRAMATIQ_BROKER

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
