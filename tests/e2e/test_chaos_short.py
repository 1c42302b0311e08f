"""The chaos bench's short version (`bench/chaos.py --short`): a worker child SIGKILLed in a
60-job batch, and the bench's private Redis restarted without persistence, against real
processes. What a user would check: every job finished, none lost, none applied twice. No
timing is asserted."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.support.paths import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_a_killed_worker_and_a_restarted_redis_lose_nothing_and_apply_nothing_twice():
    test_db = settings.DATABASES["default"]["TEST"]["NAME"]
    env = {**os.environ, "BENCH_DATABASE_NAME": f"{test_db}_chaos", "REMBG_HOME": settings.REMBG_HOME}
    done = subprocess.run(
        [sys.executable, "bench/chaos.py", "--short"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=850
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("JSON "))[5:])
    assert len(rows) == 2, done.stdout
    for row in rows:
        assert row["lost"] == 0, row
        assert row["applied_twice"] == 0, row
        assert row["succeeded"] + row["failed"] == row["submitted"] > 0, row
        assert row["failed"] == 0, row
