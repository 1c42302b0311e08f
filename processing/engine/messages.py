"""The messages that hand a job to a worker. Built here by actor name, so admission needs no
actor object (and the actors' module, which imports the runner, is not imported by admission)."""

from __future__ import annotations

import uuid

import dramatiq

from processing.jobs.kinds import get_processor


def actor_name(kind: str) -> str:
    return f"run_{kind}"


def send_job(kind: str, job_id: uuid.UUID | str) -> None:
    message = dramatiq.Message(
        queue_name=get_processor(kind).queue,
        actor_name=actor_name(kind),
        args=(str(job_id),),
        kwargs={},
        options={},
    )
    dramatiq.get_broker().enqueue(message)
