"""Every bench in one run, one table: each figure beside its anchor measured in the same run.

    .venv/bin/python bench/run_all.py [--smoke] [--only engine_scale,api_load]

A bench is a module of this folder with `run(smoke: bool) -> list[Row]` (bench/harness.py);
add its name to BENCHES. `--smoke` runs each at toy sizes, for CI: it proves the harness runs,
its figures mean nothing.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Row, setup_django  # noqa: E402

BENCHES = ["engine_scale", "api_load", "api_rembg", "json_bodies", "storage_sweep"]


def table(rows: list[Row]) -> str:
    header = ("bench", "what", "figure", "unit", "anchor (same run)", "anchor figure", "ratio")
    cells = [header] + [(r.bench, r.what, str(r.figure), r.unit, r.anchor, str(r.anchor_figure), r.ratio) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated bench names")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or BENCHES
    setup_django()
    rows: list[Row] = []
    failed = []
    for name in names:
        started = time.monotonic()
        try:
            rows += importlib.import_module(f"bench.{name}").run(args.smoke)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"# {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print(f"Machine: {platform.node()}, {platform.processor() or platform.machine()}, load {_load()}")
    print(table(rows))
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
