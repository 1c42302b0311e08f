"""What every bench shares: Django on the bench database, worker processes, MariaDB counters,
and the one table `bench/run_all.py` prints. A bench module has `run(smoke: bool) -> list[Row]`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "darkroom_bench")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


@dataclass
class Row:
    bench: str
    what: str
    figure: float | str
    unit: str = ""
    anchor: str = ""  # what the figure is compared with, measured in the same run
    anchor_figure: float | str = ""

    @property
    def ratio(self) -> str:
        if isinstance(self.figure, int | float) and isinstance(self.anchor_figure, int | float) and self.anchor_figure:
            return f"{self.figure / self.anchor_figure:.2f}"
        return ""


def setup_django(*, media_root: Path | None = None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["TEST_DATABASE_URL"] = f"mysql://root@127.0.0.1:3306/{BENCH_DB}"
    os.environ["TEST_REDIS_URL"] = BENCH_REDIS
    os.environ.setdefault("REMBG_HOME", str(ROOT / "var" / "rembg"))
    os.environ["MEDIA_ROOT"] = str(media_root or ROOT / "test-artifacts" / "bench-media")  # shared with the workers
    import django

    django.setup()


def fresh_database() -> None:
    """An empty bench database at the current migrations, and none of the bench's Redis keys."""
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        cursor.execute(f"CREATE DATABASE {BENCH_DB} CHARACTER SET utf8mb4")
    connection.close()
    call_command("migrate", verbosity=0)
    r = redis.Redis.from_url(settings.REDIS_URL)
    namespace = settings.DRAMATIQ_BROKER["OPTIONS"]["namespace"]
    for pattern in (f"{namespace}*", "bench:*", f"{settings.CACHES['default']['KEY_PREFIX']}:*"):
        for key in r.scan_iter(pattern, count=1000):
            r.delete(key)


def session_counters(prefixes: tuple[str, ...] = ("Com_", "Handler_read")) -> dict[str, int]:
    """This connection's own MariaDB status counters (not the server's: others use it too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS")
        return {name: int(value) for name, value in cursor.fetchall() if name.startswith(prefixes) and value.isdigit()}


def counter_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    skip = {"Com_show_status"}  # the reading itself
    return {k: after[k] - before.get(k, 0) for k in after if k not in skip and after[k] - before.get(k, 0)}


def statements(delta: dict[str, int]) -> int:
    return sum(v for k, v in delta.items() if k.startswith("Com_"))


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


class Worker:
    """`manage.py rundramatiq` (or plain `dramatiq` for the anchor) on the bench settings."""

    def __init__(
        self,
        *,
        processes: int = 1,
        threads: int = 2,
        queues: list[str] | None = None,
        args=None,
        env: dict[str, str] | None = None,
    ):
        self.processes = processes
        self.env = env or {}
        self.cmd = args or [sys.executable, "manage.py", "rundramatiq"]
        self.cmd = [*self.cmd, "--processes", str(processes), "--threads", str(threads)]
        if queues:
            self.cmd += ["--queues", *queues]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Worker:
        env = {
            **os.environ,
            "DRAMATIQ_THREADS": os.environ.get("DRAMATIQ_THREADS", "2"),
            "LOG_LEVEL": "WARNING",
            **self.env,
        }
        log = open(ROOT / "test-artifacts" / "bench-worker.log", "ab")  # noqa: SIM115
        import redis
        from django.conf import settings

        beats = redis.Redis.from_url(settings.REDIS_URL)
        key = f"{settings.DRAMATIQ_BROKER['OPTIONS']['namespace']}:__heartbeats__"
        before = set(beats.zrange(key, 0, -1))
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while len(set(beats.zrange(key, 0, -1)) - before) < self.processes:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {self.cmd}; see test-artifacts/bench-worker.log")
            time.sleep(0.1)
        time.sleep(1)  # its maintenance thread subscribes after boot
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
