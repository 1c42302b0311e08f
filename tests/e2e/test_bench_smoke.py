"""The benches cannot rot: `bench/run_all.py --smoke` runs every bench at toy sizes, on its own
database and Redis number, and prints its table. No timing is asserted."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.support.paths import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


def test_the_benches_run_and_print_one_table():
    test_db = settings.DATABASES["default"]["TEST"]["NAME"]
    env = {
        **os.environ,
        "BENCH_DATABASE_NAME": f"{test_db}_bench",
        "BENCH_REDIS_URL": settings.REDIS_URL,
        "REMBG_HOME": settings.REMBG_HOME,
    }
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1700
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| bench") and len(table) > 5, done.stdout
    assert {"drain", "admission", "backlog", "statements", "api", "api rembg"} <= {
        line.split("|")[1].strip() for line in table[2:]
    }
