"""The chaos bench (issue 13): faults against real processes, one table row per fault.

Processes: a private Redis (`redis-server` on a free port in a temporary folder, never the shared
one), the local MariaDB on the bench's own database (BENCH_DATABASE_NAME, default darkroom_chaos),
uvicorn serving config.asgi, and `rundramatiq -p1 -t2` kept alive by a supervisor loop as
`make run` and compose do (started again 0.1 s after it exits). Jobs are mostly `transform`
thumbnails of small images with some `remove_bg` (u2netp, REMBG_HOME). Faults:

  kill        SIGKILL of the worker's child process 3 times during one batch
  sigterm     SIGTERM of the worker while a large batch is being admitted
  redis       Redis stopped for ~5 s and started again, without persistence
  redis-aof   the same with persistence (appendonly)
  mysql-kill  KILL of every connection of the workers and the web (PROCESSLIST), 4 times
  storage     the results folders unwritable for ~10 s (tests/support/storage.py)
  long-step   one `sleepy` job whose single step takes 3 leases
  mysql-restart  the local MariaDB shut down mid-batch (`mariadb-admin shutdown`) and started
              again after ~5 s (MARIADB_START, default Debian's start-stop-daemon line). Not in
              the default set: it stops the server for everything else on the machine.

The lease is JOB_LEASE_S=10 here (production
30 s) so that the runs killed with their worker come back sooner; everything else is production's.

Columns: submitted / succeeded / failed / lost (not finished by the deadline) / applied twice (a
succeeded job with more than one result file on disk, or attempts > max_attempts) / recovery (the
worst, over the fault's occurrences, of the time from the fault's end until a job started after it
finishes: a run already under way may finish through a fault that does not touch it).

    .venv/bin/python bench/chaos.py [--short] [fault ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_NAME", "darkroom_chaos")
LEASE_S = 10
ALL_FAULTS = ["kill", "sigterm", "redis", "redis-aof", "mysql-kill", "storage", "long-step"]
OPT_IN_FAULTS = ["mysql-restart"]
RESTART_DELAY_S = float(os.environ.get("CHAOS_RESTART_DELAY_S", "0.1"))  # as scripts/run-local
MARIADB_START = os.environ.get(
    "MARIADB_START", "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class PrivateRedis:
    """A redis-server of our own; stop() and start() again on the same port."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen | None = None
        self.persistent = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec"] if self.persistent else ["--appendonly", "no"]
        )
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", *persistence]
        args += ["--dir", str(self.folder), "--daemonize", "no", "--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # a persistent one writes its AOF on the way out
            self.proc.wait(10)


class Supervised:
    """A command started again RESTART_DELAY_S after it exits, as scripts/run-local does."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path):
        self.name, self.args, self.env, self.log_path = name, args, env, log_path
        self.proc: subprocess.Popen | None = None
        self.stopping = False
        self.restarts = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Supervised:
        self.thread.start()
        return self

    def _loop(self) -> None:
        with self.log_path.open("ab") as out:
            while not self.stopping:
                self.proc = subprocess.Popen(
                    self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
                self.proc.wait()
                if self.stopping:
                    return
                self.restarts += 1
                log(f"{self.name} exited ({self.proc.returncode}); starting it again in {RESTART_DELAY_S} s")
                time.sleep(RESTART_DELAY_S)

    def children(self) -> list[int]:
        """The worker processes Dramatiq's parent forked (rundramatiq execs dramatiq in place)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return []
        found = []
        for task in Path(f"/proc/{proc.pid}/task").glob("*"):
            try:
                found += [int(pid) for pid in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    def stop(self) -> None:
        self.stopping = True
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.thread.join(5)


@dataclass
class Outcome:
    fault: str
    submitted: int = 0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    applied_twice: int = 0
    recovery_s: float | None = None
    note: str = ""
    fault_ends: list[datetime] = field(default_factory=list)

    def cells(self) -> list[str]:
        recovery = "" if self.recovery_s is None else f"{self.recovery_s:.1f} s"
        return [self.fault, str(self.submitted), str(self.succeeded), str(self.failed), str(self.lost)] + [
            str(self.applied_twice),
            recovery,
            self.note,
        ]


class Chaos:
    def __init__(self, short: bool):
        self.short = short
        self.tmp = Path(tempfile.mkdtemp(prefix="darkroom-chaos-"))
        self.media = self.tmp / "media"
        self.redis = PrivateRedis(self.tmp)
        self.worker: Supervised | None = None
        self.web: Supervised | None = None
        self.web_port = free_port()
        self.polling = False

    # --- processes -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "TEST_DATABASE_URL": os.environ["TEST_DATABASE_URL"],
            "TEST_REDIS_URL": self.redis.url,
            "MEDIA_ROOT": str(self.media),
            "JOB_LEASE_S": str(LEASE_S),
            "DRAMATIQ_THREADS": "2",
            "LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        self.redis.start()
        os.environ["BENCH_REDIS_URL"] = self.redis.url
        from bench import harness

        harness.setup_django(media_root=self.media)
        harness.fresh_database()
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        worker = [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
        self.worker = Supervised("worker", worker, self.env(), artifacts / "chaos-worker.log").start()
        web = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(self.web_port)]
        self.web = Supervised("web", [*web, "--log-level", "warning"], self.env(), artifacts / "chaos-web.log").start()
        self._wait_for(lambda: self._get("/health/ready") == 200, 90, "the web process")
        self._wait_for(lambda: self.worker.children(), 90, "the worker")
        time.sleep(3)  # the worker's maintenance thread subscribes after boot
        self.polling = True
        threading.Thread(target=self._poll_web, daemon=True).start()

    def stop(self) -> None:
        self.polling = False
        for process in (self.worker, self.web):
            if process:
                process.stop()
        self.redis.stop()
        for folder in self.media.glob("results/*"):
            from tests.support.storage import unblock

            unblock([folder])
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}", timeout=5) as answer:
                return answer.status
        except OSError as exc:
            return getattr(exc, "code", 0)

    def _poll_web(self) -> None:
        """A client reading the service meanwhile, so that the web holds database connections."""
        while self.polling:
            self._get("/health/ready")
            time.sleep(0.5)

    @staticmethod
    def _wait_for(predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := predicate():
                return value
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")

    # --- jobs --------------------------------------------------------------------------------
    def setup_vendor(self) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from bench.images import small_png
        from vendors import services as vendor_services
        from vendors.plans import ensure_default_plans

        ensure_default_plans()
        self.vendor = vendor_services.vendor_create(slug="chaos", plan_slug="unlimited")
        project = vendor_services.project_default(vendor=self.vendor)
        self.records = [
            vendor_services.record_create(project=project, upload=SimpleUploadedFile(f"s{i}.png", small_png()))
            for i in range(10)
        ]

    def submit(self, transforms: int, remove_bg: int = 0) -> list:
        from processing.jobs import services

        ids = []
        for kind, count, params in (
            ("transform", transforms, {"width": 32, "mode": "thumbnail"}),
            ("remove_bg", remove_bg, {}),
        ):
            if count:
                records = [self.records[i % len(self.records)] for i in range(count)]
                batch = services.batch_create(vendor=self.vendor, kind=kind, params=params, records=records)
                ids += list(batch.jobs.values_list("pk", flat=True))
        return ids

    def done(self, ids: list) -> int:
        from processing.jobs.models import Job
        from processing.jobs.states import FINISHED

        return Job.objects.filter(pk__in=ids, state__in=FINISHED).count()

    def when_done(self, ids: list, fraction: float, timeout: float = 300) -> None:
        self._wait_for(lambda: self.done(ids) >= fraction * len(ids), timeout, f"{fraction:.0%} of the jobs")

    def outcome(self, fault: str, ids: list, ends: list[datetime], deadline_s: float, note: str = "") -> Outcome:
        from django.db.models import Min

        from processing.jobs.models import Job

        end = time.monotonic() + deadline_s
        while time.monotonic() < end and self.done(ids) < len(ids):
            time.sleep(0.5)
        jobs = list(Job.objects.filter(pk__in=ids).values("pk", "state", "attempts", "max_attempts", "vendor_id"))
        out = Outcome(fault, submitted=len(ids), note=note, fault_ends=ends)
        for job in jobs:
            folder = self.media / "results" / str(job["vendor_id"]) / str(job["pk"])
            files = [f for f in folder.iterdir() if f.is_file()] if folder.is_dir() else []
            out.succeeded += job["state"] == "succeeded"
            out.failed += job["state"] == "failed"
            out.lost += job["state"] not in ("succeeded", "failed", "cancelled")
            out.applied_twice += (job["state"] == "succeeded" and len(files) > 1) or job["attempts"] > job[
                "max_attempts"
            ]
        if reruns := sum(job["attempts"] > 1 for job in jobs):
            out.note = f"{out.note}; {reruns} run again" if out.note else f"{reruns} run again"
        recoveries = []
        for moment in ends:
            # The first job started after the fault to finish (a run already under way may finish
            # on its own through a fault that does not touch it).
            after = Job.objects.filter(pk__in=ids, started_at__gt=moment, finished_at__gt=moment)
            first = after.aggregate(m=Min("finished_at"))["m"]
            if first is not None:
                recoveries.append((first - moment).total_seconds())
        out.recovery_s = max(recoveries) if recoveries else None
        return out

    # --- faults ------------------------------------------------------------------------------
    def now(self) -> datetime:
        from django.utils import timezone

        return timezone.now()

    def fault_kill(self) -> Outcome:
        transforms, remove_bg, kills = (55, 5, [0.3]) if self.short else (290, 10, [0.2, 0.45, 0.7])
        ids = self.submit(transforms, remove_bg)
        ends = []
        for fraction in kills:
            self.when_done(ids, fraction)
            children = self.worker.children()
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            ends.append(self.now())
            log(f"SIGKILLed the worker child {children} at {self.done(ids)}/{len(ids)}")
            self._wait_for(lambda: self.worker.restarts >= len(ends) and self.worker.children(), 60, "a new worker")
        return self.outcome(f"SIGKILL worker child ×{len(kills)}", ids, ends, 300, f"lease {LEASE_S} s")

    def fault_sigterm(self) -> Outcome:
        ids = self.submit(150 if self.short else 600)
        time.sleep(0.3)  # the admission this batch asked for is under way
        os.killpg(self.worker.proc.pid, signal.SIGTERM)
        ends = [self.now()]
        log(f"SIGTERMed the worker at {self.done(ids)}/{len(ids)}")
        return self.outcome("SIGTERM worker mid-admission", ids, ends, 300)

    def fault_redis(self, persistent: bool) -> Outcome:
        if persistent != self.redis.persistent:  # between batches: nothing is in flight
            self.redis.stop()
            self.redis.persistent = persistent
            self.redis.start()
            time.sleep(5)
        ids = self.submit(60 if self.short else 150, 0 if self.short else 4)
        self.when_done(ids, 0.25)
        self.redis.stop()
        log(f"stopped Redis at {self.done_quietly(ids)}/{len(ids)}")
        time.sleep(5)
        self.redis.start()
        ends = [self.now()]
        log("started Redis again")
        name = "Redis restart, " + ("with persistence (AOF)" if persistent else "no persistence")
        return self.outcome(name, ids, ends, 300, "down 5 s")

    def done_quietly(self, ids: list) -> int | str:
        try:
            return self.done(ids)
        except Exception:
            return "?"

    def fault_mysql_kill(self) -> Outcome:
        from django.conf import settings
        from django.db import connection

        ids = self.submit(300, 4)
        ends = []
        name = settings.DATABASES["default"]["NAME"]
        for fraction in (0.15, 0.35, 0.55, 0.75):
            self.when_done(ids, fraction)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()", [name]
                )
                victims = [row[0] for row in cursor.fetchall()]
                for victim in victims:
                    try:
                        cursor.execute(f"KILL {int(victim)}")
                    except Exception:  # gone meanwhile
                        pass
            ends.append(self.now())
            log(f"KILLed {len(victims)} connections at {self.done(ids)}/{len(ids)}")
        return self.outcome("MySQL connections KILLed ×4", ids, ends, 300, "a restart: the opt-in mysql-restart")

    def fault_mysql_restart(self) -> Outcome:
        from django.db import connection

        ids = self.submit(300, 4)
        self.when_done(ids, 0.25)
        subprocess.run(["mariadb-admin", "-uroot", "-h127.0.0.1", "shutdown"], check=True, timeout=60)
        connection.close()
        log("MariaDB shut down")
        time.sleep(5)
        subprocess.run(MARIADB_START.split(), check=True, timeout=60)
        self._wait_for(_mariadb_answers, 120, "MariaDB to answer again")
        ends = [self.now()]
        log("MariaDB answers again")
        return self.outcome("MySQL restart", ids, ends, 300, "down ≈ 5 s + its start")

    def fault_storage(self) -> Outcome:
        from tests.support.storage import block, unblock

        folders = [self.media / "results" / str(self.vendor.pk)]
        block(folders)
        try:
            ids = self.submit(40)
            log("results folder unwritable")
            time.sleep(10)
        finally:
            unblock(folders)
        ends = [self.now()]
        log(f"results folder writable again at {self.done(ids)}/{len(ids)}")
        return self.outcome("storage unwritable 10 s", ids, ends, 300, "backoff 2, 4, 8 … s")

    def fault_long_step(self) -> Outcome:
        from processing.jobs import services
        from processing.jobs.models import Job

        job = services.job_create(
            vendor=self.vendor, kind="sleepy", params={"seconds": 3 * LEASE_S, "steps": 1}, record=self.records[0]
        )
        out = self.outcome(f"one step of {3 * LEASE_S} s (3 leases)", [job.pk], [], 3 * LEASE_S + 120)
        job = Job.objects.get(pk=job.pk)
        out.note = f"attempts {job.attempts}, dispatches {job.dispatches}"
        out.applied_twice += job.attempts > 1
        return out

    def run(self, faults: list[str]) -> list[Outcome]:
        self.start()
        self.setup_vendor()
        results = []
        steps = {
            "kill": self.fault_kill,
            "sigterm": self.fault_sigterm,
            "redis": lambda: self.fault_redis(False),
            "redis-aof": lambda: self.fault_redis(True),
            "mysql-kill": self.fault_mysql_kill,
            "storage": self.fault_storage,
            "long-step": self.fault_long_step,
            "mysql-restart": self.fault_mysql_restart,
        }
        for fault in faults:
            log(f"fault: {fault}")
            outcome = steps[fault]()
            log(" | ".join(outcome.cells()))
            results.append(outcome)
        return results


def _mariadb_answers() -> bool:
    from django.db import connection

    try:
        connection.close()
        connection.ensure_connection()
        return True
    except Exception:
        return False


def table(results: list[Outcome]) -> str:
    head = ["fault", "submitted", "succeeded", "failed", "lost", "applied twice", "recovery", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(outcome.cells()) + " |" for outcome in results]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1 kill in a 60-job batch and 1 Redis restart")
    parser.add_argument(
        "faults", nargs="*", help=f"some of {', '.join(ALL_FAULTS + OPT_IN_FAULTS)} (default: {', '.join(ALL_FAULTS)})"
    )
    options = parser.parse_args()
    if unknown := set(options.faults) - set(ALL_FAULTS + OPT_IN_FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    faults = options.faults or (["kill", "redis"] if options.short else ALL_FAULTS)
    db = os.environ["BENCH_DATABASE_NAME"]
    os.environ["TEST_DATABASE_URL"] = f"mysql://root@127.0.0.1:3306/{db}"
    chaos = Chaos(options.short)
    try:
        results = chaos.run(faults)
    finally:
        chaos.stop()
    print(table(results))
    print("JSON " + json.dumps([{k: v for k, v in vars(o).items() if k != "fault_ends"} for o in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
