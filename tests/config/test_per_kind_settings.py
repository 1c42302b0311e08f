"""The per-kind settings read as compose and .env.example write them: every service of the
compose file starts with JOB_QUEUE_CAPACITY=remove_bg=3,face_crop=3,… in its environment."""

import json
import os
import subprocess
import sys

from tests.support.paths import ROOT

SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.JOB_QUEUE_CAPACITY, s.JOB_RATE_LIMITS_PER_S, s.JOB_RETRY_BASE_S]))"
)


def settings_with(**values: str) -> list[dict]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", **values}
    out = subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_comma_separated_kinds_as_compose_writes_them():
    capacity, rates, retries = settings_with(
        JOB_QUEUE_CAPACITY="remove_bg=3,face_crop=3,transform=5,pipeline=4,ai_endpoint=4",
        JOB_RATE_LIMITS_PER_S="ai_endpoint=10",
        JOB_RETRY_BASE_S="remove_bg=2.5;transform=1",
    )
    assert capacity == {"remove_bg": 3, "face_crop": 3, "transform": 5, "pipeline": 4, "ai_endpoint": 4}
    assert rates == {"ai_endpoint": 10}
    assert retries == {"remove_bg": 2.5, "transform": 1.0}


def test_empty_values_keep_the_defaults():
    capacity, rates, retries = settings_with(JOB_QUEUE_CAPACITY="", JOB_RATE_LIMITS_PER_S="", JOB_RETRY_BASE_S="")
    assert capacity == {"remove_bg": 4, "face_crop": 4, "transform": 8}
    assert rates == {} and retries == {}
