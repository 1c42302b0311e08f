"""A real uvicorn process serving config.asgi (the production way) on the test database and Redis."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.worker import ROOT, WorkerProcess


@pytest.fixture
def asgi_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = WorkerProcess().env()  # the test database and Redis, as a worker gets them
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health/", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None, "uvicorn exited"
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)
