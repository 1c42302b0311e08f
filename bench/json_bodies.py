"""The web process's memory while 10 clients at once post JSON bodies built to blow it up, against
a real uvicorn process (issue 22, point 4): 5 MiB of nested empty lists (`[[],[],…]`, ~100 MB of
Python lists once parsed), 1.9 MiB of them (under the body limit, over the value limit), and
100,000 levels of nesting. The anchor is the same web process with the limits raised out of
the way (JSON_BODY_MAX_BYTES, JSON_MAX_ITEMS, JSON_MAX_DEPTH), i.e. parsing as DRF's JSONParser
did. Memory is the web process's RSS (psutil), polled every 20 ms: before, at its peak while
the requests run, and 1 s after.

    .venv/bin/python bench/run_all.py --only json_bodies [--smoke]
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_load import _free_port, _integrator, _Uvicorn  # noqa: E402
from bench.harness import Row  # noqa: E402

CLIENTS = 10
MIB = 1024 * 1024
UNBOUNDED = {"JSON_BODY_MAX_BYTES": str(200 * MIB), "JSON_MAX_ITEMS": str(10**9), "JSON_MAX_DEPTH": str(10**6)}


def _lists(size: int) -> bytes:
    return b'{"kind": "transform", "params": {"x": [' + b",".join([b"[]"] * (size // 3)) + b"]}}"


def _deep(depth: int) -> bytes:
    return b'{"kind": "transform", "params": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


def run(smoke: bool) -> list[Row]:
    from bench import harness

    harness.fresh_database()
    token, _ = _integrator()
    bodies = {
        "5 MiB of nested empty lists": _lists(5 * MIB),
        "1.9 MiB of nested empty lists": _lists(19 * MIB // 10),
        "100,000 levels of nesting": _deep(100_000),
    }
    rounds = 1 if smoke else 3
    rows = []
    port = _free_port()
    bounded, anchor = _Uvicorn(port, pooled=True), _Uvicorn(port + 1, pooled=True)
    anchor.env.update(UNBOUNDED)
    with bounded, anchor:
        for what, body in bodies.items():
            new = [_measured(bounded, token, body) for _ in range(rounds)]
            # The anchor parses 10 × 5 MiB into ~2.6 GB for ~40 s: the smoke run sends it 256 KiB cuts.
            old = [_measured(anchor, token, body[: MIB // 4] if smoke else body) for _ in range(rounds)]
            rows.append(
                Row("json", f"web RSS before → peak → 1 s after (MiB), {CLIENTS} clients posting {what}",
                    _figure(new), "", "limits off", _figure(old))
            )  # fmt: skip
            rows.append(Row("json", f"answers and slowest (s), {what}", _answers(new), "", "limits off", _answers(old)))
    return rows


def _figure(runs: list[dict]) -> str:
    worst = max(runs, key=lambda r: r["peak"] - r["before"])
    return f"{worst['before']} → {worst['peak']} → {worst['after']}"


def _answers(runs: list[dict]) -> str:
    statuses = sum((r["statuses"] for r in runs), Counter())
    return " ".join(f"{n}×{s}" for s, n in sorted(statuses.items())) + f", {max(r['slowest'] for r in runs)}"


def _measured(server, token: str, body: bytes) -> dict:
    import psutil

    web = psutil.Process(server.proc.pid)
    before = web.memory_info().rss
    stop, peak = threading.Event(), [before]

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], web.memory_info().rss)
            stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        statuses, slowest = asyncio.run(_post_all(server.url, token, body))
    finally:
        stop.set()
        watcher.join()
    time.sleep(1)
    mib = 1 / MIB
    return {
        "before": round(before * mib),
        "peak": round(peak[0] * mib),
        "after": round(web.memory_info().rss * mib),
        "statuses": statuses,
        "slowest": round(slowest, 2),
    }


async def _post_all(url: str, token: str, body: bytes) -> tuple[Counter, float]:
    import httpx

    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:

        async def one() -> tuple[int, float]:
            started = time.perf_counter()
            try:
                status = (await client.post("/api/v1/jobs/", content=body)).status_code
            except httpx.HTTPError:
                status = 0  # the server closed the connection while the body was still going out
            return status, time.perf_counter() - started

        answers = await asyncio.gather(*(one() for _ in range(CLIENTS)))
    return Counter(status for status, _ in answers), max(elapsed for _, elapsed in answers)


if __name__ == "__main__":
    from bench.harness import setup_django

    setup_django()
    for row in run("--smoke" in sys.argv):
        print(row)
