"""Settings of the benches: the test settings' plumbing (MariaDB, Redis, the test kinds, local
media) with production's engine settings, on the bench's own database and Redis names."""

from config.settings.base import JOB_QUEUE_CAPACITY as PRODUCTION_CAPACITY
from config.settings.base import JOB_RETRY_BASE_S as PRODUCTION_RETRY_BASE_S
from config.settings.base import env, pooled_for_asgi
from config.settings.test import *  # noqa: F403

# Its own names in Redis, so that a bench run next to the tests (the smoke test) touches nothing of theirs.
DRAMATIQ_BROKER["OPTIONS"]["namespace"] = "darkroom-bench"  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "darkroom-bench"  # noqa: F405
DEBUG = False
JOB_QUEUE_CAPACITY = {**PRODUCTION_CAPACITY, "sleepy": 8}
JOB_RETRY_BASE_S = PRODUCTION_RETRY_BASE_S
DISPATCH_TICK_S = env.float("DISPATCH_TICK_S", default=1.0)
# The database as production has it: persistent connections, or the pool in a web process.
DATABASES["default"].update(CONN_MAX_AGE=env.int("DATABASE_CONN_MAX_AGE", default=60), CONN_HEALTH_CHECKS=True)  # noqa: F405
pooled_for_asgi(DATABASES["default"])  # noqa: F405
# Webhooks as production has them (the test settings shorten backoffs and cap a vendor at one
# delivery in flight); bench/webhooks_fairness.py sets a short WEBHOOK_TIMEOUT_S in the
# environment. Read from the production settings by name, so that the bench runs on code that
# predates a setting (its "before" figure).
import config.settings.base as _production  # noqa: E402

for _name in (
    "WEBHOOK_TIMEOUT_S",
    "WEBHOOK_MIN_BACKOFF_MS",
    "WEBHOOK_MAX_BACKOFF_MS",
    "WEBHOOK_VENDOR_IN_FLIGHT",
    "WEBHOOK_QUEUE_CAPACITY",
):
    if hasattr(_production, _name):
        globals()[_name] = getattr(_production, _name)
