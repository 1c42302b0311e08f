"""A real worker serves Dramatiq's own metrics on DRAMATIQ_PROMETHEUS_PORT."""

import httpx
import pytest

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


def test_a_worker_counts_the_messages_it_processed(vendor, clean_redis, tmp_path):
    port = free_port()
    worker = WorkerProcess(
        threads=1,
        queues=[ISOLATED_QUEUE],
        extra_env={"DRAMATIQ_PROMETHEUS_PORT": str(port), "DRAMATIQ_PROMETHEUS_DB": str(tmp_path)},
    ).start()
    try:
        job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
        wait_for(lambda: Job.objects.get(pk=job.pk).state == "succeeded")
        line = f'dramatiq_messages_total{{actor_name="run_isolated",queue_name="{ISOLATED_QUEUE}"}} 1.0'
        wait_for(lambda: line in (metrics_text(port) or ""))
    finally:
        worker.stop()
