"""A real Dramatiq worker process on the real Redis, pointed at the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import redis
from django.conf import settings
from django.db import connection

from tests.support.paths import ARTIFACTS, ROOT
from tests.support.waiting import wait_for


def database_url() -> str:
    """The test database, as a process started from a test is told where it is."""
    db = settings.DATABASES["default"]
    host, port, name = db["HOST"] or "127.0.0.1", db["PORT"] or 3306, connection.settings_dict["NAME"]
    return f"mysql://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{name}"


def stop_process_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the group a process started with start_new_session leads; SIGKILL if it is still
    there after `timeout`."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


class WorkerProcess:
    def __init__(self, *, threads: int = 2, queues: list[str] | None = None, extra_env: dict | None = None):
        self.threads = threads
        self.queues = queues
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = ARTIFACTS / f"worker-{os.getpid()}-{int(time.time() * 1000)}.log"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEST_DATABASE_URL": database_url(),
            "TEST_REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "REMBG_HOME": settings.REMBG_HOME,
            "DRAMATIQ_THREADS": str(self.threads),
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }

    def start(self, timeout: float = 60) -> WorkerProcess:
        self.log_path.parent.mkdir(exist_ok=True)
        args = [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", str(self.threads)]
        if self.queues:
            args += ["--queues", *self.queues]
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_consuming(timeout)
        return self

    def _wait_until_consuming(self, timeout: float) -> None:
        r = redis.Redis.from_url(settings.REDIS_URL)
        key = f"{settings.DRAMATIQ_BROKER['OPTIONS']['namespace']}:__heartbeats__"
        before = set(r.zrange(key, 0, -1))

        def consuming() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}; see {self.log_path}")
            return bool(set(r.zrange(key, 0, -1)) - before)

        wait_for(consuming, timeout=timeout, what=f"the worker to start consuming (see {self.log_path})")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc:
            stop_process_group(self.proc)
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")
