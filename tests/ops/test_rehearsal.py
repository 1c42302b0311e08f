"""The production rehearsal's short version (`scripts/rehearse.py --short`, `make rehearse` runs
the full one): docker-compose.yml's services started as compose would run them, behind nginx
terminating TLS, then a vendor's day in Chromium, an integrator's bulk job with its event stream
and verified webhooks, the operator's dashboard, retention on the scheduler's cron, and three
faults (a `rembg s` server killed, a worker service killed with jobs in hand, Redis restarted).
What an operator would check: the run says ok, every job succeeded once (the killed worker's
jobs ran a second time at most), no 5xx, no ERROR line in any service's log but Dramatiq's own
when Redis goes away. So the compose file cannot drift from what runs. No timing is asserted."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

from tests.support.loopback import free_port
from tests.support.paths import ARTIFACTS, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.mark.skipif(not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"), reason="make sysdeps")
def test_the_compose_layout_runs_a_day_and_its_faults_behind_tls():
    database = f"{settings.DATABASES['default']['TEST']['NAME']}_rehearsal"
    run_dir = ARTIFACTS / "rehearsal"
    env = {**os.environ, "REMBG_HOME": settings.REMBG_HOME}
    rehearsal = subprocess.Popen(
        [sys.executable, "scripts/rehearse.py", "--short", "--database", database, "--run-dir", str(run_dir),
         "--https-port", str(free_port()), "--http-port", str(free_port())],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        out, _ = rehearsal.communicate(timeout=800)
    except subprocess.TimeoutExpired:
        rehearsal.terminate()  # SIGTERM: the rehearsal stops its stack on the way out
        out, _ = rehearsal.communicate(timeout=90)
    line = next((line for line in out.splitlines() if line.startswith("JSON ")), None)
    assert line, out[-5000:]
    findings = json.loads(line[5:])
    assert findings["ok"], findings.get("failure", "") + f"\n(logs in {run_dir / 'logs'})"
    assert rehearsal.returncode == 0

    compose_services = {"web", "scheduler", "rembg-1", "rembg-2", "rembg-3", "worker-remove-bg", "worker-webhooks"}
    assert compose_services <= set(findings["services"])
    jobs = findings["faults"]["jobs"]
    assert jobs["states"] == {"succeeded": jobs["total"]}
    assert set(jobs["attempts"]) <= {"1", "2"}
    killed = findings["faults"]["worker_killed"]
    assert killed["restarts"] == 1 and killed["ran_twice"] >= 1
    assert findings["fault_5xx"] == []
    assert findings["day"]["operator"]["workers_alive"] == findings["day"]["operator"]["worker_services"]
    assert findings["day"]["edges"]["client_address"] == "203.0.113.7"
    assert findings["day"]["integrator"]["down_attempts"] >= 1
    served = findings["faults"]["rembg_killed"]["served"]
    assert (
        served["rembg-1"] == 0 and served["rembg-2"] + served["rembg-3"] >= findings["faults"]["rembg_killed"]["jobs"]
    )
