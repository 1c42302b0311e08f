"""POST /api/v1/jobs/ under load, against a real uvicorn process: one asyncio/httpx process as
the load generator. 1, 20 and 50 clients posting as fast as they can, and 20 clients at an
offered 50 requests/s; latency percentiles, 5xx/failed requests, and the most connections the
web process held to MariaDB meanwhile.

    .venv/bin/python bench/run_all.py --only api_load [--smoke]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import BENCH_DB, ROOT, Row  # noqa: E402


def run(smoke: bool) -> list[Row]:
    from bench import harness

    harness.fresh_database()
    token, record_id = _integrator()
    port = _free_port()
    body = {"kind": "transform", "record": record_id, "params": {"width": 32, "mode": "thumbnail"}}
    duration = 2 if smoke else 10
    rows = []
    # Interleaved: the web process with its pool, and as it was (a connection per request).
    with _Uvicorn(port, pooled=True) as pooled, _Uvicorn(port + 1, pooled=False) as unpooled:
        for server in (pooled, unpooled):
            asyncio.run(_load(server.url, token, body, clients=2, duration=1))  # warm-up
        for clients, rate in ((1, None), (20, None), (50, None), (20, 50)):
            new = _measured(pooled, token, body, clients, duration, rate)
            old = _measured(unpooled, token, body, clients, duration, rate)
            what = f"{clients} clients" + (f" at an offered {rate} req/s" if rate else ", as fast as they can")
            rows += [
                Row("api", f"POST /jobs/ p50 / p95 / p99, {what}",
                    f"{new['p50']} / {new['p95']} / {new['p99']}", "ms",
                    "connection per request", f"{old['p50']} / {old['p95']} / {old['p99']}"),
                Row("api", f"POST /jobs/ p99, {what}", new["p99"], "ms", "connection per request", old["p99"]),
                Row("api", f"req/s · errors · most DB connections, {what}",
                    f"{new['rps']} · {new['errors']} · {new['connections']}", "",
                    "connection per request", f"{old['rps']} · {old['errors']} · {old['connections']}"),
            ]  # fmt: skip
    return rows


def _integrator():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bench.images import small_png
    from tests.factories import make_member
    from vendors import services as vendor_services

    vendor = vendor_services.vendor_create(slug="bench-api", plan_slug="unlimited")
    owner = make_member(vendor, "bench-owner", role="owner")
    project = vendor_services.project_default(vendor=vendor)
    record = vendor_services.record_create(project=project, upload=SimpleUploadedFile("s.png", small_png()))
    return vendor_services.api_token_for(user=owner), record.pk


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Uvicorn:
    def __init__(self, port: int, *, pooled: bool):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "DARKROOM_ASGI": "true" if pooled else "false"}

    def __enter__(self):
        import httpx

        # A port found free may be taken before uvicorn binds it (another process's outgoing
        # connection): uvicorn then exits at once, and is started again on another port.
        for _ in range(3):
            cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
                   "--port", str(self.port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
            log = open(ROOT / "test-artifacts" / "bench-web.log", "ab")  # noqa: SIM115
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 300  # Django's import is slow on a busy machine
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{self.port}/health/live", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    time.sleep(0.2)
            if self.proc.poll() is None:
                break
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise RuntimeError("uvicorn did not start; see test-artifacts/bench-web.log")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(30)


def _connections_while(pid: int, stop: threading.Event, seen: list[int]) -> None:
    """The most connections the web process `pid` holds to the bench database, polled from a
    connection of our own: the rows of the server's process list whose client port is one of
    that process's sockets (both web processes run at once, and the other's idle persistent
    connections must not count)."""
    import MySQLdb
    import psutil

    web = psutil.Process(pid)
    db = MySQLdb.connect(host="127.0.0.1", user="root")
    cursor = db.cursor()
    while not stop.is_set():
        ports = {c.laddr.port for c in web.net_connections(kind="tcp") if c.raddr and c.raddr.port == 3306}
        cursor.execute("SELECT HOST FROM information_schema.PROCESSLIST WHERE DB = %s", [BENCH_DB])
        seen.append(sum(1 for (host,) in cursor.fetchall() if int(host.rpartition(":")[2] or 0) in ports))
        stop.wait(0.1)
    db.close()


def _measured(server, token, body, clients, duration, rate) -> dict:
    url = server.url
    stop, seen = threading.Event(), [0]
    watcher = threading.Thread(target=_connections_while, args=(server.proc.pid, stop, seen))
    watcher.start()
    try:
        timings, errors, elapsed = asyncio.run(_load(url, token, body, clients=clients, duration=duration, rate=rate))
    finally:
        stop.set()
        watcher.join()
    timings.sort()

    def pct(p: float) -> float:
        return round(timings[min(len(timings) - 1, int(len(timings) * p))] * 1000, 1) if timings else float("nan")

    return {
        "p50": round(statistics.median(timings) * 1000, 1) if timings else float("nan"),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "rps": round(len(timings) / elapsed),
        "errors": errors,
        "connections": max(seen),
    }


async def _load(url, token, body, *, clients, duration, rate=None):
    import httpx

    timings: list[float] = []
    errors = 0
    interval = clients / rate if rate else 0.0
    started = time.perf_counter()
    deadline = started + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Token {token}"}, limits=limits,
                                 timeout=30) as client:  # fmt: skip

        async def one_client(offset: float) -> None:
            nonlocal errors
            next_at = started + offset
            while (now := time.perf_counter()) < deadline:
                if interval:
                    await asyncio.sleep(max(0.0, next_at - now))
                    next_at += interval
                sent = time.perf_counter()
                try:
                    response = await client.post("/api/v1/jobs/", json=body)
                    if response.status_code >= 500 or response.status_code not in (201, 202):
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                    continue
                timings.append(time.perf_counter() - sent)

        await asyncio.gather(*(one_client(i * interval / clients if interval else 0) for i in range(clients)))
    return timings, errors, time.perf_counter() - started
