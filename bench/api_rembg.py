"""Background removal as users meet it (issue 25): through the API of the `make run` stack.

`scripts/run-local` is started as `make run` starts it (uvicorn, the jobs worker, the previews'
worker, the scheduler; SQLite, local files, previews on), on its own port, files and Redis
database. Three concurrent clients each post their share of distinct 1024 px photos
(multipart, kind=remove_bg), follow each job on its event stream (SSE) until it ends and fetch
its result; timed from
the first POST to the last result. The anchor is `rembg s` (u2netp) with three clients posting
the same photos, interleaved round by round (the order alternates), so a busy minute slows
both alike. Every result's pixels are compared with rembg.remove's on the same photo.

    .venv/bin/python bench/api_rembg.py [--rounds 3] [--photos 24]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Row  # noqa: E402
from bench.rembg_speed import _RembgServer  # noqa: E402

CLIENTS = 3
MODEL = "u2netp"
POLL_S = 0.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """`scripts/run-local` in its own corner: a temporary SQLite file and media folder, Redis db 13."""

    def __init__(self) -> None:
        import httpx

        self.dir = Path(tempfile.mkdtemp(prefix="darkroom-api-rembg-"))
        self.port = _free_port()
        env = {
            **os.environ,
            "PORT": str(self.port),
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{self.dir / 'db.sqlite3'}",
            "MEDIA_ROOT": str(self.dir / "media"),
            "REDIS_URL": os.environ.get("BENCH_STACK_REDIS_URL", "redis://127.0.0.1:6379/13"),
            "PROMETHEUS_MULTIPROC_DIR": str(self.dir / "prometheus"),
            "DRAMATIQ_PROMETHEUS_PORT": "0",  # a `make run` of the developer's own may hold 9191
            "DRAMATIQ_NAMESPACE": "darkroom-api-bench",
            "CACHE_KEY_PREFIX": "darkroom-api-bench",
        }
        (self.dir / "prometheus").mkdir()
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        self.log = open(self.dir / "run-local.log", "w+b")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(ROOT / "scripts" / "run-local")], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 300
        token = None
        while time.monotonic() < deadline and token is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"run-local exited; see {self.dir / 'run-local.log'}")
            time.sleep(0.5)
            self.log.seek(0)
            if found := re.search(rb"API token \(demo\): (\S+)", self.log.read()):
                token = found.group(1).decode()
        if token is None:
            raise RuntimeError(f"run-local did not start; see {self.dir / 'run-local.log'}")
        # The demo vendor's plan holds it to 30 images an hour: the bench's vendor has no limits.
        made = subprocess.run(
            [sys.executable, "manage.py", "create_vendor", "bench-api", "--user", "bench-api", "--plan", "unlimited"],
            cwd=ROOT, env={**env, "DARKROOM_USER_PASSWORD": "bench-api-password"}, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        token = made.stdout.strip().splitlines()[-1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.clients = [
            httpx.Client(base_url=self.base, timeout=600, headers={"Authorization": f"Token {token}"})
            for _ in range(CLIENTS)
        ]
        self.pids = {}

    def processes(self) -> dict[str, list[int]]:
        """The stack's processes by role, for CPU figures: web, jobs worker, previews worker."""
        import psutil

        roles: dict[str, list[int]] = {"web": [], "jobs worker": [], "previews worker": [], "other": []}
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmd = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "uvicorn" in cmd:
                roles["web"].append(child.pid)
            elif "--queues remove_bg" in cmd:  # rundramatiq, Dramatiq's parent and its worker process
                roles["jobs worker"].append(child.pid)
            elif "--queues thumbnails" in cmd:
                roles["previews worker"].append(child.pid)
            else:  # the scheduler, the supervising shells
                roles["other"].append(child.pid)
        return roles

    def run(self, images: list[bytes]) -> tuple[float, list[bytes]]:
        def one(http, image: bytes) -> bytes:
            posted = _retrying(
                lambda: http.post(
                    "/api/v1/jobs/", data={"kind": "remove_bg"}, files={"image": ("photo.jpg", image, "image/jpeg")}
                )
            )
            job = _followed(http, posted.json())
            if job["state"] != "succeeded":
                raise RuntimeError(f"job {job['id']} {job['state']}: {job.get('error')}")
            return _retrying(lambda: http.get(job["result"]["url"], follow_redirects=True)).content

        return _shared(self.clients, images, one)

    def close(self) -> None:
        for http in self.clients:
            http.close()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        # run-local's processes run in sessions of their own: stop what is left of them.
        import psutil

        for proc in psutil.process_iter(["pid", "environ"]):
            try:
                if (proc.info["environ"] or {}).get("MEDIA_ROOT") == str(self.dir / "media"):
                    proc.kill()
            except psutil.Error:
                pass
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _shared(clients, images: list[bytes], one) -> tuple[float, list[bytes]]:
    """The images shared out among the clients, each taking the next when done with one:
    (seconds from the first request to the last answer, the answers in the images' order)."""
    todo = list(enumerate(images))
    results: dict[int, bytes] = {}
    lock = threading.Lock()

    def client(http) -> None:
        while True:
            with lock:
                if not todo:
                    return
                index, image = todo.pop(0)
            answer = one(http, image)
            with lock:
                results[index] = answer

    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(client, clients))
    return time.perf_counter() - started, [results[i] for i in range(len(images))]


def _followed(http, job: dict) -> dict:
    """The job once finished, followed as an integrator would: its event stream (SSE), whose
    `end` event carries the finished job."""
    import json

    with http.stream("GET", "/api/v1/events/", params={"job": job["id"]}) as stream:
        if stream.status_code != 200:  # no stream to be had (too many open): poll instead
            while job["state"] not in ("succeeded", "failed", "cancelled"):
                time.sleep(POLL_S)
                job = _retrying(lambda job_id=job["id"]: http.get(f"/api/v1/jobs/{job_id}/")).json()
            return job
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event == "end":
                return json.loads(line[len("data: ") :])
    return _retrying(lambda: http.get(f"/api/v1/jobs/{job['id']}/")).json()


def _retrying(call):
    """A 429 or 503 is waited out as its Retry-After says (the vendor's quota, a busy stack)."""
    while True:
        response = call()
        if response.status_code in (429, 503):
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        response.raise_for_status()
        return response


class RembgServer(_RembgServer):
    """`rembg s` as bench/rembg_speed.py starts it (its own sessions and settings), on a free port."""

    def __init__(self) -> None:
        super().__init__(_free_port())

    def processes(self) -> dict[str, list[int]]:
        return {"rembg s": [self.proc.pid]}

    def run(self, images: list[bytes]) -> tuple[float, list[bytes]]:
        def one(http, image: bytes) -> bytes:
            response = http.post(
                "/api/remove", files={"file": ("photo.jpg", image, "image/jpeg")}, data={"model": MODEL}
            )
            response.raise_for_status()
            return response.content

        return _shared(self.clients, images, one)


def _cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()  # each process of the tree is listed once
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _same_pixels(results: list[bytes], references: list[bytes]) -> bool:
    import numpy as np
    from PIL import Image

    for got, want in zip(results, references, strict=True):
        a, b = Image.open(io.BytesIO(got)), Image.open(io.BytesIO(want))
        if a.size != b.size or not np.array_equal(np.asarray(a.convert("RGBA")), np.asarray(b.convert("RGBA"))):
            return False
    return True


def measure(*, rounds: int, count: int) -> dict:
    from bench.photos import photos

    images = photos(count * (rounds + 1))  # distinct photos in every round, and one for the warm-up
    sides = {"darkroom": Stack(), "rembg s": RembgServer()}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, dict[str, float]] = {name: {} for name in sides}
    identical = True
    try:
        for side in sides.values():  # warm-up: sessions built, caches filled
            side.run(images[:CLIENTS])
        for turn in range(rounds):
            batch = images[(turn + 1) * count : (turn + 2) * count]
            order = list(sides) if turn % 2 == 0 else list(reversed(sides))
            for name in order:
                roles = sides[name].processes()
                before = {role: _cpu_seconds(pids) for role, pids in roles.items()}
                seconds, results = sides[name].run(batch)
                rates[name].append(len(batch) / seconds)
                for role, pids in roles.items():
                    cpu[name][role] = cpu[name].get(role, 0.0) + (_cpu_seconds(pids) - before[role]) / seconds
                print(f"#   round {turn + 1}, {name}: {rates[name][-1]:.2f} img/s", file=sys.stderr, flush=True)
                if name == "rembg s":
                    references = results
                else:
                    darkroom_results = results
            identical = identical and _same_pixels(darkroom_results, references)
    finally:
        for side in sides.values():
            side.close()
    ratios = [d / r for d, r in zip(rates["darkroom"], rates["rembg s"], strict=True)]
    return {
        "rates": rates,
        "ratios": ratios,
        "identical": identical,
        "cpu": {name: {role: round(100 * v / rounds) for role, v in roles.items()} for name, roles in cpu.items()},
    }


def run(smoke: bool) -> list[Row]:
    figures = measure(rounds=1 if smoke else 3, count=CLIENTS if smoke else 24)
    rates, ratios = figures["rates"], figures["ratios"]
    n = 3 if smoke else 24
    cpu = "; ".join(f"{role} {pct} %" for role, pct in figures["cpu"]["darkroom"].items())
    anchor_cpu = "; ".join(f"{role} {pct} %" for role, pct in figures["cpu"]["rembg s"].items())
    return [
        Row("api rembg", f"remove_bg through the make run stack's API, {n} photos 1024 px, 3 clients (median of {len(ratios)} rounds)",
            round(statistics.median(rates["darkroom"]), 2), "img/s", "rembg s, 3 clients, interleaved",
            round(statistics.median(rates["rembg s"]), 2)),
        Row("api rembg", "per-round ratios darkroom / rembg s", ", ".join(f"{r:.2f}" for r in ratios)),
        Row("api rembg", "pixels identical to rembg s (u2netp) on every photo", str(figures["identical"])),
        Row("api rembg", "CPU per process during its rounds (100 % = one core)", cpu, "", "rembg s", anchor_cpu),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos", type=int, default=24)
    args = parser.parse_args()
    figures = measure(rounds=args.rounds, count=args.photos)
    print(figures)


if __name__ == "__main__":
    main()
