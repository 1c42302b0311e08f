"""Outside AI endpoints (the ai_endpoint kind): docs/ai.md."""

from config.env import env

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
