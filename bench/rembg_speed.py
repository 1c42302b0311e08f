"""Background removal end to end: Darkroom vs `rembg s` vs a bare rembg loop, interleaved.

Same 1024 px photos, same model (u2netp), same machine, taking turns round by round (column
order shuffled each round), so a busy neighbour slows all three alike:

  darkroom         real remove_bg jobs (a batch through jobs.services, as the API makes them),
                   run by a real `rundramatiq --processes 1 --threads 2` worker with production's
                   admission settings; timed from submission to the last job succeeded
  rembg s          `rembg s` (its own sessions and settings), 3 concurrent clients posting the
                   photos with model=u2netp to /api/remove
  bare rembg loop  rembg.new_session("u2netp") shared by 2 threads, rembg.remove(bytes) -> PNG

Needs MariaDB and Redis (the database darkroom_bench_rembg is created) and REMBG_HOME with u2netp.

    .venv/bin/python bench/rembg_speed.py [--rounds 6] [--batch 8] [--port 7001]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("TEST_DATABASE_URL", "mysql://root@127.0.0.1:3306/darkroom_bench_rembg")
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/8")
MODEL = "u2netp"
COLUMNS = ("darkroom", "rembg s", "bare rembg loop")


def rows(*, rounds: int = 6, batch: int = 8, port: int = 7001, photo_count: int = 40) -> list[dict]:
    import django

    django.setup()
    from bench.photos import photos

    images = photos(photo_count)
    darkroom = _Darkroom(images)
    server = _RembgServer(port)
    bare = _BareLoop()
    runners = {"darkroom": darkroom.run, "rembg s": server.run, "bare rembg loop": bare.run}
    results = {name: {"rates": [], "sizes": []} for name in COLUMNS}
    try:
        for name in COLUMNS:  # warm-up: sessions built, caches filled
            runners[name](list(range(2)))
        shuffle = random.Random(0)
        for turn in range(rounds):
            indexes = [(turn * batch + i) % len(images) for i in range(batch)]
            order = list(COLUMNS)
            shuffle.shuffle(order)
            for name in order:
                seconds, sizes = runners[name](indexes)
                results[name]["rates"].append(batch / seconds)
                results[name]["sizes"] += sizes
            print(
                f"round {turn + 1}/{rounds}: "
                + ", ".join(f"{n} {results[n]['rates'][-1]:.2f}" for n in COLUMNS)
                + " img/s",
                flush=True,
            )
        worker_rss = darkroom.worker_rss_mib()
    finally:
        darkroom.close()
        server.close()

    anchor = results["rembg s"]
    table = []
    for name in COLUMNS:
        rates = results[name]["rates"]
        ratios = [mine / theirs for mine, theirs in zip(rates, anchor["rates"], strict=True)]
        table.append(
            {
                "path": name,
                "img_s": len(rates) * batch / sum(batch / r for r in rates),
                "x_rembg_s": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "kib_per_img": statistics.mean(results[name]["sizes"]) / 1024,
                "worker_rss_mib": worker_rss if name == "darkroom" else None,
            }
        )
    return table


class _Darkroom:
    def __init__(self, images: list[bytes]) -> None:
        import redis
        from django.conf import settings
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.core.management import call_command
        from django.db import connection

        from tests.worker import WorkerProcess
        from vendors import services
        from vendors.models import Vendor
        from vendors.plans import ensure_default_plans

        with connection._nodb_cursor() as cursor:
            cursor.execute("CREATE DATABASE IF NOT EXISTS darkroom_bench_rembg CHARACTER SET utf8mb4")
        call_command("migrate", verbosity=0)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        ensure_default_plans()
        Vendor.objects.filter(slug="rembg-bench").delete()
        self.vendor = services.vendor_create(slug="rembg-bench", plan_slug="unlimited")
        project = services.project_create(vendor=self.vendor, name="bench")
        self.records = [
            services.record_create(
                project=project, upload=SimpleUploadedFile(f"{i:02d}.jpg", data, content_type="image/jpeg")
            )
            for i, data in enumerate(images)
        ]
        self.worker = WorkerProcess(
            threads=2, queues=["remove_bg"], extra_env={"DJANGO_SETTINGS_MODULE": "bench.settings"}
        ).start()

    def run(self, indexes: list[int]) -> tuple[float, list[int]]:
        from django.core.files.storage import default_storage

        from processing.jobs.models import Job
        from processing.jobs.services import batch_create

        started = time.perf_counter()
        batch = batch_create(
            vendor=self.vendor, kind="remove_bg", params={"model": MODEL}, records=[self.records[i] for i in indexes]
        )
        jobs = Job.objects.filter(batch=batch)
        while jobs.exclude(state="succeeded").exists():
            if jobs.filter(state__in=("failed", "cancelled")).exists():
                raise RuntimeError(f"a bench job failed; see {self.worker.log_path}")
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        return seconds, [default_storage.size(job.result["name"]) for job in jobs]

    def worker_rss_mib(self) -> float:
        import psutil

        process = psutil.Process(self.worker.proc.pid)
        return max(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20

    def close(self) -> None:
        self.worker.stop()


class _RembgServer:
    CLIENTS = 3

    def __init__(self, port: int) -> None:
        import httpx

        from bench.photos import photos

        self.images = photos(40)
        env = {**os.environ, "REMBG_HOME": os.path.abspath(os.environ["REMBG_HOME"])}
        rembg = Path(sys.executable).with_name("rembg")
        self.proc = subprocess.Popen(
            [str(rembg), "s", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--log_level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) for _ in range(self.CLIENTS)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.clients[0].get("/api")
                return
            except httpx.TransportError:
                time.sleep(0.5)
        raise RuntimeError("rembg s did not start")

    def run(self, indexes: list[int]) -> tuple[float, list[int]]:
        todo = list(indexes)
        sizes: list[int] = []
        lock = threading.Lock()

        def client(http) -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    index = todo.pop(0)
                response = http.post(
                    "/api/remove",
                    files={"file": ("photo.jpg", self.images[index], "image/jpeg")},
                    data={"model": MODEL},
                )
                response.raise_for_status()
                with lock:
                    sizes.append(len(response.content))

        started = time.perf_counter()
        with ThreadPoolExecutor(self.CLIENTS) as pool:
            list(pool.map(client, self.clients))
        return time.perf_counter() - started, sizes

    def close(self) -> None:
        for http in self.clients:
            http.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


class _BareLoop:
    THREADS = 2

    def __init__(self) -> None:
        import rembg

        from bench.photos import photos

        os.environ["REMBG_HOME"] = os.path.abspath(os.environ["REMBG_HOME"])  # where rembg finds u2netp
        self.images = photos(40)
        self.session = rembg.new_session(MODEL)
        self.remove = rembg.remove

    def run(self, indexes: list[int]) -> tuple[float, list[int]]:
        started = time.perf_counter()
        with ThreadPoolExecutor(self.THREADS) as pool:
            outputs = list(pool.map(lambda i: self.remove(self.images[i], session=self.session), indexes))
        return time.perf_counter() - started, [len(png) for png in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=8, help="photos per column per round")
    parser.add_argument("--port", type=int, default=7001, help="for the rembg s this bench starts")
    args = parser.parse_args()
    table = rows(rounds=args.rounds, batch=args.batch, port=args.port)
    print(f"\n{MODEL}, 40 distinct 1024 px photos, {args.rounds} rounds x {args.batch} per column, interleaved")
    print(f"{'path':16} {'img/s':>6} {'x rembg s':>9} {'(min-max)':>12} {'KiB/img':>8} {'worker RSS':>10}")
    for row in table:
        rss = f"{row['worker_rss_mib']:.0f} MiB" if row["worker_rss_mib"] else "-"
        print(
            f"{row['path']:16} {row['img_s']:6.2f} {row['x_rembg_s']:9.2f} "
            f"{row['ratio_min']:5.2f}-{row['ratio_max']:<5.2f} {row['kib_per_img']:8.0f} {rss:>10}"
        )
    print("x rembg s: median of the per-round ratios; sizes are the PNG bytes each path returns")


if __name__ == "__main__":
    main()
