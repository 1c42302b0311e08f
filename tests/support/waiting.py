"""Waiting for what a worker process does, with a bound, saying what did not happen."""

import time

FINISHED = ("succeeded", "failed", "cancelled")


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.1, what: str = "the condition"):
    """The first truthy value of predicate(), polled every interval until timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_until_finished(http, job_id: str, timeout: float = 90) -> dict:
    """Poll GET /api/v1/jobs/{id}/ as a client would until the job ends; its last reading."""
    return wait_for(
        lambda: (job := http.get(f"/api/v1/jobs/{job_id}/").json())["state"] in FINISHED and job,
        timeout=timeout,
        interval=0.2,
        what=f"job {job_id} to finish",
    )
