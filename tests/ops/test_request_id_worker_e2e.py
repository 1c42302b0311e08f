"""The X-Request-ID of the request that created a job is on a real worker's log lines for it."""

import json

import pytest

from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_real_workers_lines_for_a_job_carry_its_request_id(http, vendor, clean_redis):
    worker = WorkerProcess(threads=1, queues=[ISOLATED_QUEUE], extra_env={"LOG_JSON": "true"}).start()
    try:
        response = http.post(
            "/api/v1/jobs/",
            json={"kind": "isolated", "record": make_record(vendor).pk},
            headers={"X-Request-ID": "e2e-req-42"},
        )
        assert response.status_code == 202, response.text
        assert response.headers["X-Request-ID"] == "e2e-req-42"
        job_id = response.json()["id"]
        wait_for(lambda: Job.objects.get(pk=job_id).state == "succeeded")
        wait_for(lambda: f"job {job_id} succeeded" in worker.output())
    finally:
        worker.stop()

    lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    about_the_job = [line for line in lines if line.get("job_id") == job_id]
    assert about_the_job, "the worker logged lines for the job"
    assert {line.get("request_id") for line in about_the_job} == {"e2e-req-42"}
