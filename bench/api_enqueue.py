"""Enqueue latency of POST /api/v1/jobs/ against a live server: prints p50/p95/max.

    python bench/api_enqueue.py --url http://127.0.0.1:8000 --token TOKEN [--n 200] [--kind transform]

Uses a small uploaded JPEG by default (the request path only checks and stores it), or
--image-url to measure the URL input. Use a vendor on the `unlimited` plan, or the request
limits will answer 429 after the first 50.
"""

import argparse
import io
import statistics
import time

import httpx
from PIL import Image


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 200)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--kind", default="transform")
    parser.add_argument("--image-url", default="")
    args = parser.parse_args()

    image = small_jpeg()
    timings, statuses = [], {}
    with httpx.Client(base_url=args.url, headers={"Authorization": f"Token {args.token}"}, timeout=30) as client:
        for n in range(args.n + 5):
            started = time.perf_counter()
            if args.image_url:
                response = client.post("/api/v1/jobs/", json={"kind": args.kind, "image_url": args.image_url})
            else:
                files = {"image": (f"bench-{n}.jpg", image, "image/jpeg")}
                response = client.post("/api/v1/jobs/", data={"kind": args.kind}, files=files)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if n >= 5:  # warm-up: connections, first queries
                timings.append(elapsed_ms)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"requests: {len(timings)}  statuses: {statuses}  upload bytes: {0 if args.image_url else len(image)}")
    print(f"enqueue latency ms  p50={statistics.median(timings):.1f}  p95={p95:.1f}  max={timings[-1]:.1f}")


if __name__ == "__main__":
    main()
