"""`make rehearse`: the compose layout run for real on this machine, behind nginx terminating TLS,
then a day's work through it and the faults (README, "Rehearsal"). Prints one `JSON {...}` line
with the findings; exits 1 when anything a user or an operator would notice went wrong.

    .venv/bin/python scripts/rehearse.py [--short] [--keep] [--database NAME]
        [--https-port 8443] [--http-port 8080] [--run-dir var/rehearse]

--short is the CI version (tests/ops/test_rehearsal.py): fewer and smaller photos, the same steps.
--keep leaves the stack up after the day until Ctrl-C, for a look around.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.rehearsal.day import (  # noqa: E402
    Day,
    Failed,
    error_lines,
    log_offsets,
    portal_jobs_in,
    server_errors,
)
from scripts.rehearsal.stack import Rehearsal, free_port, log  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the suite's Chromium, launched alike)

# What Dramatiq itself logs (CRITICAL) when Redis stops under its consumers: the restart fault.
EXPECTED_DURING_FAULTS = ("Consumer encountered a connection error",)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", default=os.environ.get("REHEARSAL_DATABASE", "darkroom_rehearse"))
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "rehearse")
    args = parser.parse_args()

    run_dir = args.run_dir.resolve()
    shutil.rmtree(run_dir, ignore_errors=True)
    hook_port, down_port = free_port(), free_port()
    stack = Rehearsal(
        run_dir=run_dir,
        database=args.database,
        https_port=args.https_port,
        http_port=args.http_port,
        env_changes={
            # Retention every minute, so that the run sees the scheduler enqueue it.
            "JOB_RETENTION_CRON": "* * * * *",
            # The integrator's webhook receiver listens on loopback, on a port of its own.
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "WEBHOOK_ALLOWED_PORTS": f"80,443,{hook_port},{down_port}",
            # AI endpoints need keys this machine does not have; the example's entries are left out.
            "AI_ENDPOINTS": "{}",
            "WEB_WORKERS": "2",
            # The models the image carries (the Dockerfile's REMBG_MODELS): this machine cannot
            # download the example's others, which a deploy's `setup` would fetch.
            "REMBG_ALLOWED_MODELS": "u2netp",
        },
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    findings: dict = {"ok": False}
    started = time.monotonic()
    try:
        stack.up()
        findings["up_s"] = round(time.monotonic() - started, 1)
        findings["services"] = {name: p.service.command[:3] for name, p in stack.procs.items()}
        day = Day(stack, short=args.short, hook_port=hook_port, down_port=down_port)
        run_day(stack, day, findings)
        findings["ok"] = True
        if args.keep:
            log("--keep: the stack stays up; Ctrl-C stops it")
            signal.pause()
    except (Failed, SystemExit, Exception) as exc:  # noqa: BLE001 - reported, then the stack goes down
        findings["failure"] = f"{type(exc).__name__}: {exc}"
        log(f"FAILED: {findings['failure']}")
    except KeyboardInterrupt:
        findings["failure"] = "interrupted"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the stop short
        findings["total_s"] = round(time.monotonic() - started, 1)
        findings["restarts"] = {name: p.restarts for name, p in stack.procs.items() if p.restarts}
        log("stopping the stack")
        stack.down()
        if findings["ok"]:
            stack.drop_mysql()
    print("JSON " + json.dumps(findings, default=str), flush=True)
    log(f"logs: {stack.logs}")
    return 0 if findings["ok"] else 1


def run_day(stack: Rehearsal, day: Day, findings: dict) -> None:
    day.accounts()
    day.edges()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            log("the vendor's day in the portal")
            day.portal(browser)
            portal_jobs_in(day)
            log("the integrator's bulk job, event stream and webhooks")
            day.integrator()
            log("the operator's dashboard")
            day.operator(browser)
        finally:
            browser.close()
    day.age_a_job()
    errors = error_lines(stack.logs)
    check_clean(errors, server_errors(stack.logs / "nginx-access.log"), "the day's work")
    findings["day"] = day.findings.copy()
    offsets = log_offsets(stack.logs)
    access = (stack.logs / "nginx-access.log").stat().st_size
    log("fault: rembg-1 killed")
    day.fault_rembg_killed()
    log("fault: worker-remove-bg killed with jobs in hand")
    day.fault_worker_killed()
    log("fault: redis restarted")
    day.fault_redis_restarted()
    day.retention_ran()
    day.every_job_once()
    findings["faults"] = {k: v for k, v in day.findings.items() if k not in findings["day"]}
    # A fault may cost WARNING lines with tracebacks (a Redis call that failed); not an ERROR.
    findings["fault_tracebacks"] = {k: len(v) for k, v in error_lines(stack.logs, offsets).items()}
    during = error_lines(stack.logs, offsets, tracebacks=False)
    expected = list(EXPECTED_DURING_FAULTS)
    if stack.procs["scheduler"].restarts:
        # periodiq exits on a Redis error at the moment it enqueues (its "Unhandled error" and
        # "please file an issue" lines); `restart: unless-stopped` starts it again, which is the
        # recovery compose gives it. Seen only when the restart falls on a cron tick.
        expected.append('"name": "periodiq"')
    unexpected = {
        name: [line for line in lines if not any(e in line for e in expected)] for name, lines in during.items()
    }
    findings["fault_log_errors"] = {name: len(lines) for name, lines in during.items()}
    findings["fault_5xx"] = server_errors(stack.logs / "nginx-access.log", access)
    check_clean({k: v for k, v in unexpected.items() if v}, [], "the faults")


def check_clean(errors: dict[str, list[str]], fives: list[str], when: str) -> None:
    if errors:
        raise Failed(f"ERROR lines in the logs during {when}: {json.dumps(errors, indent=1)[:4000]}")
    if fives:
        raise Failed(f"5xx answers during {when}: {fives[:10]}")


if __name__ == "__main__":
    sys.exit(main())
