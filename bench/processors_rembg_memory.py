"""RSS of one worker-like process over 1000 local remove_bg jobs (u2netp, a small image).

Runs the remove_bg processor as a worker does (cached session, the configured onnxruntime
threads) and prints the resident set size every 100 jobs; memory must level off, not climb.

    .venv/bin/python bench/processors_rembg_memory.py [--jobs 1000] [--size 160]
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()

import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as samples  # noqa: E402

from processing.jobs.kinds import InputLimits, get_processor  # noqa: E402
from processing.jobs.kinds.remove_bg import onnx_threads_per_session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--size", type=int, default=160, help="longest side of the input image")
    args = parser.parse_args()

    img = Image.fromarray(samples.astronaut())
    img.thumbnail((args.size, args.size))
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=90)
    jpeg = buffer.getvalue()

    processor = get_processor("remove_bg")
    params = processor.clean_params({"model": "u2netp"})
    limits = InputLimits(settings.IMAGE_MAX_BYTES, settings.IMAGE_MAX_PIXELS)
    process = psutil.Process()
    mib = 1024 * 1024
    print(f"u2netp, {img.width}x{img.height} JPEG, onnxruntime intra-op threads {onnx_threads_per_session()}")
    print(f"{'jobs':>6} {'rss MiB':>9} {'jobs/s':>8}")
    print(f"{0:>6} {process.memory_info().rss / mib:>9.1f}")
    started = last = time.monotonic()
    samples_rss = []
    for done in range(1, args.jobs + 1):
        processor.run(jpeg, params, limits=limits, progress=lambda *a, **k: None)
        if done % 100 == 0:
            now = time.monotonic()
            rss = process.memory_info().rss / mib
            samples_rss.append(rss)
            print(f"{done:>6} {rss:>9.1f} {100 / (now - last):>8.1f}", flush=True)
            last = now
    elapsed = time.monotonic() - started
    print(
        f"{args.jobs} jobs in {elapsed:.1f} s; RSS after the first 100: {samples_rss[0]:.1f} MiB, "
        f"at the end: {samples_rss[-1]:.1f} MiB, growth {samples_rss[-1] - samples_rss[0]:+.1f} MiB"
    )


if __name__ == "__main__":
    main()
