"""Background removal at the size vendors bring: a 12 MP camera photo (4000 x 3000 JPEG).

Three columns, taking turns round by round in one run, so a busy neighbour slows them alike:

  stages      Darkroom's remove_background in this process, stage by stage: decode, the mask
              (the model's 320 px input, inference, the mask scaled back up), cut-out, encode
  darkroom    the same call whole (PNG), as a worker runs it
  rembg s     `rembg s` (its own sessions and settings) answering the same photo over HTTP

and the memory each needs: the peak RSS of a fresh process doing one 12 MP cut-out after a
warm-up at 1024 px (Darkroom's worker code, and `rembg s` on the same photo), as copies of the
decoded RGB image (36 MB).

    .venv/bin/python bench/rembg_large.py [--rounds 3] [--side 4000] [--port 7011]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REMBG_HOME", str(ROOT / "var" / "rembg"))
MODEL = "u2netp"
LIMITS = {"max_bytes": 100 * 1024 * 1024, "max_pixels": 100_000_000}


def photo(side: int) -> bytes:
    """A 4:3 camera-sized JPEG of a real photo (scikit-image's chelsea, scaled up)."""
    from PIL import Image

    from bench.photos import photos

    img = Image.open(io.BytesIO(photos(1, side=1024)[0])).convert("RGB")
    img = img.resize((side, side * 3 // 4), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def session():
    from processing.lib.rembg.sessions import get_session

    return get_session(MODEL, home=os.environ["REMBG_HOME"])


def stages(data: bytes, rembg_session) -> dict[str, float]:
    """Seconds per stage of one cut-out, in remove_background's order."""
    from PIL import Image

    from processing.lib.imaging.background import premultiplied_cutout
    from processing.lib.imaging.encode import encode
    from processing.lib.imaging.inspect import load_image
    from processing.lib.imaging.masks import predict_mask

    took: dict[str, float] = {}

    def timed(name, call):
        started = time.perf_counter()
        value = call()
        took[name] = time.perf_counter() - started
        return value

    img = timed("decode", lambda: load_image(data, **LIMITS))
    mask = timed("mask (all of it)", lambda: predict_mask(rembg_session, img))
    timed("  of which: the model's 320 px input", lambda: img.resize((320, 320), Image.Resampling.LANCZOS))
    small = Image.new("L", (320, 320))
    timed("  of which: the mask scaled to the photo", lambda: small.resize(img.size, Image.Resampling.LANCZOS))
    cutout = timed("cut-out", lambda: premultiplied_cutout(img, mask))
    timed("encode PNG", lambda: encode(cutout, format="PNG"))
    timed("encode WebP (lossless)", lambda: encode(cutout, format="WEBP", lossless=True))
    return took


def whole(data: bytes, rembg_session) -> float:
    from processing.lib.imaging.background import remove_background

    started = time.perf_counter()
    remove_background(data, session=rembg_session, format="PNG", **LIMITS)
    return time.perf_counter() - started


class RembgServer:
    def __init__(self, port: int) -> None:
        import httpx

        rembg = Path(sys.executable).with_name("rembg")
        self.proc = subprocess.Popen(
            [str(rembg), "s", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--log_level", "warning"],
            env={**os.environ, "U2NET_HOME": str(Path(os.environ["REMBG_HOME"]) / "models" / MODEL)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.http.get("/api")
                return
            except httpx.TransportError:
                time.sleep(0.5)
        raise RuntimeError("rembg s did not start")

    def remove(self, data: bytes) -> float:
        started = time.perf_counter()
        response = self.http.post(
            "/api/remove", files={"file": ("photo.jpg", data, "image/jpeg")}, data={"model": MODEL}
        )
        response.raise_for_status()
        return time.perf_counter() - started

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class PeakRss:
    """The highest RSS of a process while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak = self.base = self.process.memory_info().rss
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)


def child_memory(side: int) -> dict:
    """Run in a fresh process: warm up at 1024 px, then one cut-out at `side`; RSS in bytes."""
    from bench.photos import photos

    rembg_session = session()
    whole(photos(1, side=1024)[0], rembg_session)
    data = photo(side)
    with PeakRss(os.getpid()) as rss:
        whole(data, rembg_session)
    return {"base": rss.base, "peak": rss.peak}


def rembg_s_memory(server: RembgServer, data: bytes) -> dict:
    from bench.photos import photos

    server.remove(photos(1, side=1024)[0])
    with PeakRss(server.proc.pid) as rss:
        server.remove(data)
    return {"base": rss.base, "peak": rss.peak}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--side", type=int, default=4000)
    parser.add_argument("--port", type=int, default=7011)
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        print(json.dumps(child_memory(args.child_memory)))
        return

    data = photo(args.side)
    width, height = args.side, args.side * 3 // 4
    rgb_mb = width * height * 3 / 1e6
    print(f"photo: {width} x {height} ({width * height / 1e6:.1f} MP), JPEG {len(data) / 1e6:.1f} MB")
    rembg_session = session()
    server = RembgServer(args.port)
    try:
        whole(data, rembg_session), server.remove(data)  # warm-up
        per_stage: dict[str, list[float]] = {}
        darkroom, rembg_s = [], []
        for turn in range(args.rounds):
            order = [lambda: darkroom.append(whole(data, rembg_session)), lambda: rembg_s.append(server.remove(data))]
            for run in order if turn % 2 == 0 else reversed(order):
                run()
            for name, seconds in stages(data, rembg_session).items():
                per_stage.setdefault(name, []).append(seconds)
        child = subprocess.run(
            [sys.executable, __file__, "--child-memory", str(args.side)], capture_output=True, text=True, check=True
        )
        ours = json.loads(child.stdout.strip().splitlines()[-1])
        theirs = rembg_s_memory(server, data)
    finally:
        server.stop()

    print(f"\nmedians of {args.rounds} rounds, interleaved\n")
    print("| stage | ms |\n|---|---|")
    for name, values in per_stage.items():
        print(f"| {name} | {statistics.median(values) * 1000:.0f} |")
    ours_s, theirs_s = statistics.median(darkroom), statistics.median(rembg_s)
    print("\n| whole cut-out | s | vs rembg s |\n|---|---|---|")
    print(f"| Darkroom remove_background (PNG) | {ours_s:.2f} | {theirs_s / ours_s:.2f} x as fast |")
    print(f"| rembg s, same photo over HTTP | {theirs_s:.2f} | 1.00 |")
    print("\n| peak RSS for one cut-out | over the warm process | copies of the RGB image |\n|---|---|---|")
    for name, rss in (("Darkroom (worker code, fresh process)", ours), ("rembg s", theirs)):
        grown = (rss["peak"] - rss["base"]) / 1e6
        print(f"| {name} | {grown:.0f} MB (peak {rss['peak'] / 1e6:.0f} MB) | {grown / rgb_mb:.1f} |")


if __name__ == "__main__":
    main()
