"""Input images: their limits and where they may be fetched from."""

from config.env import env

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
