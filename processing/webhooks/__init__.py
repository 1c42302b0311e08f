"""Webhooks: a vendor's endpoints are told when a job succeeds or fails and when a batch
finishes, by signed POSTs retried with backoff; every attempt is logged. See docs/webhooks.md."""
