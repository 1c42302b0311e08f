"""Request limits per IP and the proxies whose X-Forwarded-For is believed."""

from config.env import env

# --- Request limits. Vendor quotas come from their plan (vendors/quotas.py); this one is per
# IP, for anonymous callers and sign-in attempts (django-ratelimit over the Redis cache).
ANON_RATE_LIMIT = env("ANON_RATE_LIMIT", default="100/15m")
# The proxies in front of the web server (addresses or networks; "*": any peer). Only from these
# is X-Forwarded-For believed, read from the right past them: for the anonymous limit, sign-in
# lockouts (vendors.quotas.client_ip) and, from the same variable, gunicorn and uvicorn's own
# client address. Behind a proxy that is not listed, every client shares the proxy's address.
TRUSTED_PROXIES = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
RATELIMIT_IP_META_KEY = "vendors.quotas.client_ip"
