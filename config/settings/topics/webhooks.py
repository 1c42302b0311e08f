"""Webhooks: delivery, retries, fairness between vendors, receivers' addresses."""

from config.env import env

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
