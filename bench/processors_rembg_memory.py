"""Worker memory and speed under each onnxruntime/allocator memory setting, at 1024 px.

One child process per setting (allocator settings need their own process); each runs the
remove_bg processor as a worker does (Django settings, the cached session, 2 threads sharing
it) on 40 distinct 1024 px photos. The parent hands out chunks of jobs in turn (A B C A B C…),
so only one child works at a time and every setting sees the same machine load; speed is each
setting's jobs per second over the same jobs, relative to the first setting measured beside it.

    .venv/bin/python bench/processors_rembg_memory.py [--jobs 300] [--chunk 10]
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
SETTINGS = {
    "before: pattern on, arena on": {"ONNX_MEM_PATTERN": "true", "ONNX_CPU_MEM_ARENA": "true"},
    "pattern off, arena off (default)": {"ONNX_MEM_PATTERN": "false", "ONNX_CPU_MEM_ARENA": "false"},
    "pattern off, arena on": {"ONNX_MEM_PATTERN": "false", "ONNX_CPU_MEM_ARENA": "true"},
    "pattern off, arena off, jemalloc": {
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "false",
        "LD_PRELOAD": JEMALLOC,
    },
    "pattern on, arena off, jemalloc": {
        "ONNX_MEM_PATTERN": "true",
        "ONNX_CPU_MEM_ARENA": "false",
        "LD_PRELOAD": JEMALLOC,
    },
    "pattern on, arena on, jemalloc": {
        "ONNX_MEM_PATTERN": "true",
        "ONNX_CPU_MEM_ARENA": "true",
        "LD_PRELOAD": JEMALLOC,
    },
    "pattern off, arena off, jemalloc, background purge 30 s": {
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "false",
        "LD_PRELOAD": JEMALLOC,
        "MALLOC_CONF": "background_thread:true,dirty_decay_ms:30000,muzzy_decay_ms:30000",
    },
    "pattern off, arena off, jemalloc, never purge": {
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "false",
        "LD_PRELOAD": JEMALLOC,
        "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1",
    },
    "1 thread (2 onnxruntime threads), pattern on, arena on, jemalloc": {
        "DRAMATIQ_THREADS": "1",
        "ONNX_MEM_PATTERN": "true",
        "ONNX_CPU_MEM_ARENA": "true",
        "LD_PRELOAD": JEMALLOC,
    },
    "serial, pattern on, arena on, jemalloc": {
        "ONNX_SERIAL_INFERENCE": "true",
        "ONNX_MEM_PATTERN": "true",
        "ONNX_CPU_MEM_ARENA": "true",
        "LD_PRELOAD": JEMALLOC,
    },
    "serial, pattern off, arena on, jemalloc": {
        "ONNX_SERIAL_INFERENCE": "true",
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "true",
        "LD_PRELOAD": JEMALLOC,
    },
    "serial, pattern off, arena on, glibc": {
        "ONNX_SERIAL_INFERENCE": "true",
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "true",
    },
    "serial, pattern off, arena off, jemalloc": {
        "ONNX_SERIAL_INFERENCE": "true",
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "false",
        "LD_PRELOAD": JEMALLOC,
    },
    "pattern off, arena off, MALLOC_ARENA_MAX=2": {
        "ONNX_MEM_PATTERN": "false",
        "ONNX_CPU_MEM_ARENA": "false",
        "MALLOC_ARENA_MAX": "2",
    },
}
MARKS = (50, 100, 200, 300)
THREADS = 2


def rows(*, jobs: int = 300, chunk: int = 10, only: str = "", progress: bool = False) -> list[dict]:
    chosen = {name: env for name, env in SETTINGS.items() if not only or any(part in name for part in only.split("|"))}
    if not Path(JEMALLOC).exists():
        chosen = {name: env for name, env in chosen.items() if "LD_PRELOAD" not in env}
    children = {
        name: subprocess.Popen(
            [sys.executable, __file__, "--child"],
            env={**os.environ, "DRAMATIQ_THREADS": str(THREADS), **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        for name, env in chosen.items()
    }
    ready = {name: json.loads(child.stdout.readline()) for name, child in children.items()}
    log: dict[str, list[dict]] = {name: [] for name in children}
    order = list(children)
    for turn in range(jobs // chunk):
        for name in order if turn % 2 == 0 else order[::-1]:
            children[name].stdin.write(f"{chunk}\n")
            children[name].stdin.flush()
            log[name].append(json.loads(children[name].stdout.readline()))
        if progress and (turn + 1) * chunk % 20 == 0:
            walls = {n: sum(step["wall"] for step in log[n][2:]) for n in order}
            print(
                f"{(turn + 1) * chunk} jobs each: "
                + ", ".join(
                    f"{n} {log[n][-1]['rss']:.0f} MiB"
                    + (f" speed {walls[order[0]] / walls[n]:.3f}" if walls[n] else "")
                    for n in order
                ),
                flush=True,
            )
    for child in children.values():
        child.stdin.close()
        child.wait()

    warm = 2  # the first chunks pay for warming up
    first = order[0]
    first_wall = sum(step["wall"] for step in log[first][warm:])
    result = []
    for name in order:
        wall = sum(step["wall"] for step in log[name][warm:])
        done = sum(step["jobs"] for step in log[name][warm:])
        at = {step["done"]: step["rss"] for step in log[name]}
        result.append(
            {
                "setting": name,
                "rss_ready": ready[name]["rss"],
                **{f"rss_{mark}": at.get(mark) for mark in MARKS},
                "rss_max": max(step["rss"] for step in log[name]),
                "img_s": done / wall,
                "speed": first_wall / wall,
            }
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=10)
    parser.add_argument("--only", default="", help="only settings whose name contains one of these (a|b)")
    args = parser.parse_args()
    table = rows(jobs=args.jobs, chunk=args.chunk, only=args.only, progress=True)
    print(f"remove_bg, u2netp, 1024 px, {THREADS} threads sharing one session, {args.jobs} jobs per setting")
    marks = " ".join(f"{'@' + str(m):>6}" for m in MARKS)
    print(f"{'setting':36} {'ready':>6} {marks} {'max':>6} {'img/s':>6} {'speed':>6}")
    for row in table:
        at = " ".join(f"{row[f'rss_{m}']:6.0f}" if row[f"rss_{m}"] else f"{'-':>6}" for m in MARKS)
        print(
            f"{row['setting']:36} {row['rss_ready']:6.0f} {at} {row['rss_max']:6.0f} "
            f"{row['img_s']:6.2f} {row['speed']:6.3f}"
        )
    print(
        "RSS in MiB (ready = Django, rembg and the session loaded); speed relative to the first row, same jobs, interleaved"
    )


def child() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    import psutil
    from django.conf import settings

    from bench.photos import photos
    from processing.jobs.kinds import InputLimits, get_processor
    from processing.jobs.kinds.remove_bg import local_session

    processor = get_processor("remove_bg")
    params = processor.clean_params({"model": "u2netp"})
    limits = InputLimits(settings.IMAGE_MAX_BYTES, settings.IMAGE_MAX_PIXELS)
    images = photos(40)
    local_session()  # as a worker does at boot
    process = psutil.Process()
    print(json.dumps({"rss": process.memory_info().rss / 2**20}), flush=True)
    done = 0
    for line in sys.stdin:
        todo = list(range(done, done + int(line)))

        def work(todo=todo):
            while todo:
                try:
                    index = todo.pop()
                except IndexError:
                    return
                processor.run(images[index % len(images)], params, limits=limits, progress=lambda *a, **k: None)

        started = time.perf_counter()
        threads = [threading.Thread(target=work) for _ in range(int(os.environ.get("DRAMATIQ_THREADS", THREADS)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done += int(line)
        wall = time.perf_counter() - started
        print(json.dumps({"done": done, "jobs": int(line), "wall": wall, "rss": process.memory_info().rss / 2**20}))
        sys.stdout.flush()


if __name__ == "__main__":
    child() if sys.argv[1:] == ["--child"] else main()
