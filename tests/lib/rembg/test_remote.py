"""remove_bg on real `rembg s --no-ui` servers on loopback, taken in turn; one is stopped mid-test."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data as samples

from processing.jobs.kinds import InputLimits, get_processor
from processing.lib.errors import InvalidImage, TemporaryError
from processing.lib.rembg.remote import servers_for
from tests.support.loopback import free_port
from tests.support.photos import LIMITS, decode, jpeg_bytes
from tests.support.waiting import wait_for
from tests.worker import stop_process_group

REMOVE_BG = get_processor("remove_bg")


class RembgServer:
    def __init__(self, log_dir: Path, rembg_home: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"rembg-s-{self.port}.log"
        rembg = Path(sys.executable).with_name("rembg")
        self.log = self.log_path.open("wb")
        env = {**os.environ, "REMBG_HOME": rembg_home, "OMP_NUM_THREADS": "1"}
        env.pop("U2NET_HOME", None)
        self.proc = subprocess.Popen(
            [str(rembg), "s", "--no-ui", "-h", "127.0.0.1", "-p", str(self.port), "-l", "info"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        def answering() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rembg s exited; see {self.log_path}")
            try:
                return httpx.get(f"{self.url}/api", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answering, timeout=timeout, interval=0.2, what=f"rembg s to answer (see {self.log_path})")

    def removals(self) -> int:
        return self.log_path.read_text(errors="replace").count("POST /api/remove")

    def stop(self) -> None:
        stop_process_group(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def rembg_servers(tmp_path_factory, rembg_home):
    servers = [RembgServer(tmp_path_factory.mktemp("rembg"), rembg_home) for _ in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def remote(settings, rembg_servers):
    settings.REMBG_BACKEND = "remote"
    settings.REMBG_URLS = [server.url for server in rembg_servers]
    settings.REMBG_URL_RETRY_S = 60
    servers_for.cache_clear()
    yield rembg_servers
    servers_for.cache_clear()


@pytest.fixture(scope="module")
def astronaut_small() -> bytes:
    return jpeg_bytes(Image.fromarray(samples.astronaut()).resize((160, 160)))


def cut_out(data: bytes, **params):
    return REMOVE_BG.run(
        data, REMOVE_BG.clean_params({"model": "u2netp", **params}), limits=InputLimits(**LIMITS), progress=None
    )


def test_jobs_go_to_the_servers_in_turn_and_give_real_cutouts(remote, astronaut_small):
    before = [server.removals() for server in remote]
    outputs = [cut_out(astronaut_small) for _ in range(4)]
    time.sleep(0.5)  # uvicorn writes its access log after answering
    assert [server.removals() - b for server, b in zip(remote, before, strict=True)] == [2, 2]
    cutout = decode(outputs[0].data)
    assert outputs[0].content_type == "image/png" and cutout.mode == "RGBA" and cutout.size == (160, 160)
    alpha = np.asarray(cutout)[:, :, 3]
    assert alpha[:12, :12].mean() < 40, "the background corner must be transparent"
    assert np.median(alpha[60:100, 55:95]) > 200, "the subject must stay opaque"


def test_rembg_options_reach_the_server(remote, astronaut_small):
    mask = decode(cut_out(astronaut_small, only_mask=True).data)
    assert mask.mode == "L"
    on_red = decode(cut_out(astronaut_small, bgcolor=[255, 0, 0, 255], format="webp").data)
    assert on_red.format == "WEBP"
    corner = np.asarray(on_red.convert("RGB"))[:8, :8].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 200 and corner[1] < 60 and corner[2] < 60, f"the background must be red, not {corner}"


def test_bad_input_is_refused_before_it_is_sent(remote):
    before = [server.removals() for server in remote]
    with pytest.raises(InvalidImage):
        cut_out(b"GIF89a but truncated")
    time.sleep(0.3)
    assert [server.removals() for server in remote] == before


def test_a_stopped_server_is_skipped_and_the_job_goes_to_the_next(remote, astronaut_small):
    alive, stopped = remote
    stopped.stop()
    before = alive.removals()
    for _ in range(4):
        assert cut_out(astronaut_small).content_type == "image/png"
    time.sleep(0.5)
    assert alive.removals() - before == 4, "every job went to the live server"
    servers = servers_for(tuple(s.url for s in remote), 60)
    assert servers.rotation() == [alive.url], "the stopped server rests before it is tried again"


def test_with_every_server_down_the_job_is_retried_later(settings, astronaut_small):
    settings.REMBG_BACKEND = "remote"
    settings.REMBG_URLS = [f"http://127.0.0.1:{free_port()}"]
    servers_for.cache_clear()
    with pytest.raises(TemporaryError) as failure:
        cut_out(astronaut_small)
    assert failure.value.code == "rembg_unavailable"
    servers_for.cache_clear()
