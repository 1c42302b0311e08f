"""Settings for the benchmarks' worker processes: the test settings' plumbing (their own MariaDB
database and Redis number, local media), with production's admission and timing values."""

from config.settings.base import DISPATCH_TICK_S as PRODUCTION_DISPATCH_TICK_S
from config.settings.base import JOB_QUEUE_CAPACITY as PRODUCTION_QUEUE_CAPACITY
from config.settings.base import JOB_RETRY_BASE_S as PRODUCTION_RETRY_BASE_S
from config.settings.test import *  # noqa: F403

JOB_QUEUE_CAPACITY = PRODUCTION_QUEUE_CAPACITY
DISPATCH_TICK_S = PRODUCTION_DISPATCH_TICK_S
JOB_RETRY_BASE_S = PRODUCTION_RETRY_BASE_S
