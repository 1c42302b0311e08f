"""Does an open event stream tie up what answers the API?

Starts Darkroom under uvicorn (ASGI, one process) on loopback against MariaDB and Redis, times
POST /api/v1/jobs/ with no stream open, then opens STREAMS Server-Sent Event streams (each on
its own waiting job) and times the same POSTs while they stay open. Prints p50/p95 of both.

    .venv/bin/python bench/events_streams.py [--streams 100] [--posts 100]

Environment: BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306/bench_darkroom_events, created
and dropped here) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/12, flushed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/bench_darkroom_events")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def app_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": DATABASE_URL,
        "TEST_REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
    }


def database(action: str) -> None:
    import MySQLdb

    parts = urlsplit(DATABASE_URL)
    conn = MySQLdb.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root", passwd=parts.password or ""
    )
    name = parts.path.lstrip("/")
    with conn.cursor() as cursor:
        if action == "create":
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        else:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def manage(*args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=app_env(), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=app_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/", timeout=1).status_code in (200, 503):
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("uvicorn did not answer within 60 s")


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 60, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


async def post_jobs(client: httpx.AsyncClient, count: int) -> tuple[list[float], list[str]]:
    image = small_jpeg()
    latencies, ids = [], []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/jobs/", data={"kind": "transform"}, files={"image": ("p.jpg", image, "image/jpeg")}
        )
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 202:
            raise SystemExit(f"POST /api/v1/jobs/ answered {response.status_code}: {response.text[:300]}")
        ids.append(response.json()["id"])
    return latencies, ids


async def follow(client: httpx.AsyncClient, job_id: str, opened: asyncio.Event, counts: dict) -> None:
    async with client.stream("GET", f"/api/v1/events/?job={job_id}", headers={"Accept": "text/event-stream"}) as r:
        if r.status_code != 200:
            raise SystemExit(f"stream answered {r.status_code}")
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                counts[job_id] = counts.get(job_id, 0) + 1
                if len(counts) == counts["_want"]:
                    opened.set()


def summary(name: str, values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100)
    return f"{name:<32} p50 {statistics.median(values):7.1f} ms   p95 {cuts[94]:7.1f} ms   (n={len(values)})"


async def bench(base_url: str, token: str, streams: int, posts: int) -> None:
    headers = {"Authorization": f"Token {token}"}
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, limits=limits) as api:
        await post_jobs(api, 10)  # warm up: imports, connections
        baseline, ids = await post_jobs(api, max(posts, streams))
        print(summary("enqueue, no stream open", baseline[:posts]))

        counts: dict = {"_want": streams + 1}
        opened = asyncio.Event()
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, limits=limits) as sse:
            tasks = [asyncio.create_task(follow(sse, job_id, opened, counts)) for job_id in ids[:streams]]
            await asyncio.wait_for(opened.wait(), timeout=60)
            with_streams, _ = await post_jobs(api, posts)
            still_open = sum(not t.done() for t in tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        print(summary(f"enqueue, {streams} streams open", with_streams))
        print(f"streams open at the end: {still_open}/{streams}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--posts", type=int, default=100)
    options = parser.parse_args()

    database("create")
    proc = None
    try:
        manage("migrate", "--noinput", "-v", "0")
        token = manage("create_vendor", "bench", "--user", "bench", "--plan", "unlimited").strip().splitlines()[-1]
        port = free_port()
        proc = start_uvicorn(port)
        print(f"uvicorn (ASGI, 1 process) on 127.0.0.1:{port}; MariaDB + Redis on loopback")
        asyncio.run(bench(f"http://127.0.0.1:{port}", token, options.streams, options.posts))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        database("drop")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
