"""The messages that hand a job to a worker. Built here by actor name, so admission needs no
actor object (and the actors' module, which imports the runner, is not imported by admission).

A message carries the job's id and its dispatch count (`Job.dispatches` as admission set it):
only the latest message of a job may start it, so one sent again after it was thought lost
leaves no second live message that could start the job outside admission."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

from processing.jobs.kinds import get_processor


def actor_name(kind: str) -> str:
    return f"run_{kind}"


def _message(kind: str, job_id: uuid.UUID | str, dispatch: int | None = None) -> dramatiq.Message:
    return dramatiq.Message(
        queue_name=get_processor(kind).queue,
        actor_name=actor_name(kind),
        args=(str(job_id),) if dispatch is None else (str(job_id), dispatch),
        kwargs={},
        options={},
    )


def job_of(message: dramatiq.Message) -> tuple[str, int | None]:
    """(job id, dispatch count) a message carries; the count is None in a message without one."""
    args = list(message.args)
    return str(args[0]), (int(args[1]) if len(args) > 1 and args[1] is not None else None)


def send_job(kind: str, job_id: uuid.UUID | str, dispatch: int | None = None) -> None:
    dramatiq.get_broker().enqueue(_message(kind, job_id, dispatch))


def send_jobs(kind: str, jobs: Sequence[tuple[uuid.UUID | str, int | None]]) -> None:
    """Send many jobs' messages, (job id, dispatch count) each, in one Redis round trip (one at
    a time on other brokers)."""
    broker = dramatiq.get_broker()
    if not isinstance(broker, RedisBroker) or len(jobs) < 2:
        for job_id, dispatch in jobs:
            broker.enqueue(_message(kind, job_id, dispatch))
        return
    messages = [
        _message(kind, job_id, dispatch).copy(options={"redis_message_id": str(uuid.uuid4())})
        for job_id, dispatch in jobs
    ]
    for message in messages:
        broker.emit_before("enqueue", message, None)
    # What RedisBroker.enqueue does per message (its "dispatch" script), queued on one pipeline.
    # Private parts of Dramatiq 2.x's broker: every e2e test that runs a batch goes through here.
    dispatch = broker.scripts["dispatch"]
    with broker.client.pipeline(transaction=False) as pipe:
        for message in messages:
            args = [
                "enqueue",
                current_millis(),
                message.queue_name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                broker._should_do_maintenance("enqueue"),
                broker._max_unpack_size(),
                message.options["redis_message_id"],
                message.encode(),
            ]
            dispatch(keys=[broker.namespace], args=args, client=pipe)
        pipe.execute()
    for message in messages:
        broker.emit_after("enqueue", message, None)
