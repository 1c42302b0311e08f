"""A real uvicorn process serving config.asgi (the production way) on the test database and Redis."""

import subprocess
import sys

import httpx
import pytest

from tests.support.loopback import free_port
from tests.support.paths import ROOT
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess, stop_process_group


@pytest.fixture
def asgi_server():
    port = free_port()
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

    def answering() -> bool:
        try:
            httpx.get(f"{url}/health/", timeout=1)
        except httpx.HTTPError:
            assert proc.poll() is None, "uvicorn exited"
            return False
        return True

    wait_for(answering, timeout=60, interval=0.2, what=f"uvicorn to answer at {url}")
    yield url
    stop_process_group(proc)
