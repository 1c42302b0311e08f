"""Test-only kinds, registered through DARKROOM_PROCESSORS in the test settings, so tests of
the engine control how long a job takes and when it fails while going through the real
dispatcher, Redis and worker processes."""

from django.conf import settings
from rest_framework import serializers

from processing.jobs.kinds.base import Processor, RetryPolicy
from processing.lib.errors import TemporaryError
from processing.lib.imaging.output import ImageOutput
from processing.lib.redis import get_redis
from tests.support.photos import image_bytes
from tests.support.queues import ISOLATED_QUEUE


def tiny_png() -> ImageOutput:
    return ImageOutput(image_bytes((2, 2), (255, 0, 0, 255)), "image/png", 2, 2)


class SleepyParams(serializers.Serializer):
    seconds = serializers.FloatField(min_value=0, max_value=60, default=0.05)
    steps = serializers.IntegerField(min_value=1, max_value=100, default=1)


def run_sleepy(data, params, *, limits, progress):
    import time

    for step in range(params["steps"]):
        progress("processing", 20 + 60 * step // params["steps"], f"step {step + 1} of {params['steps']}")
        time.sleep(params["seconds"] / params["steps"])
    return tiny_png()


class StringField(serializers.CharField):
    """A string, not a number made one: the schema lists a kind's required params with their
    types (processing/api/kind_schemas.py), and the fuzz run holds the server to them."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FlakyParams(serializers.Serializer):
    key = StringField()
    fail_times = serializers.IntegerField(min_value=0, default=1)


def run_flaky(data, params, *, limits, progress):
    calls = get_redis().incr(f"{settings.CACHES['default']['KEY_PREFIX']}:flaky:{params['key']}")
    if calls <= params["fail_times"]:
        raise TemporaryError(f"the endpoint is down (call {calls})", code="upstream_unavailable")
    return tiny_png()


sleepy = Processor(kind="sleepy", queue="sleepy", params=SleepyParams, run=run_sleepy, inputs=frozenset({"record"}))
# Rate limited in the test settings (JOB_RATE_LIMITS_PER_S).
limited = Processor(kind="limited", queue="limited", params=SleepyParams, run=run_sleepy, inputs=frozenset({"record"}))
isolated = Processor(
    kind="isolated", queue=ISOLATED_QUEUE, params=SleepyParams, run=run_sleepy, inputs=frozenset({"record"})
)
flaky = Processor(
    kind="flaky",
    queue="flaky",
    params=FlakyParams,
    run=run_flaky,
    inputs=frozenset({"record"}),
    retry=RetryPolicy(max_attempts=3, base_s=0.3),
)
