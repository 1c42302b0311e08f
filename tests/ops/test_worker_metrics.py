"""A real worker records its job metrics and Dramatiq's in the host's multiprocess directory: it
serves them on DRAMATIQ_PROMETHEUS_PORT (bound to loopback by default), and the web's /metrics
adds them up with its own."""

import socket
from pathlib import Path

import httpx
import pytest
from django.test import Client

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.loopback import free_port
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def metrics_text(port: int) -> str | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
    except httpx.HTTPError:
        return None


def listening_addresses(port: int) -> set[str]:
    """Where this host listens on `port`, read from /proc/net/tcp (IPv4) without any traffic."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


@pytest.fixture
def metrics_worker():
    port = free_port()
    worker = WorkerProcess(threads=1, queues=[ISOLATED_QUEUE], extra_env={"DRAMATIQ_PROMETHEUS_PORT": str(port)})
    worker.start()
    yield port
    worker.stop()


def test_a_worker_counts_the_messages_and_jobs_it_processed(vendor, clean_redis, metrics_worker):
    port = metrics_worker
    job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    wait_for(lambda: Job.objects.get(pk=job.pk).state == "succeeded")
    line = f'dramatiq_messages_total{{actor_name="run_isolated",queue_name="{ISOLATED_QUEUE}"}} 1.0'
    wait_for(lambda: line in (metrics_text(port) or ""))
    served = metrics_text(port)
    assert 'darkroom_job_outcomes_total{kind="isolated",outcome="succeeded",vendor="acme"}' in served

    ours = Client().get("/metrics").content.decode()
    assert 'darkroom_job_outcomes_total{kind="isolated",outcome="succeeded",vendor="acme"}' in ours
    assert "dramatiq_messages_total" in ours, "the web's /metrics adds up the worker's files"


def test_the_worker_metrics_port_listens_on_loopback_only_by_default(db, metrics_worker):
    port = metrics_worker
    wait_for(lambda: metrics_text(port) is not None)
    assert listening_addresses(port) == {"127.0.0.1"}
