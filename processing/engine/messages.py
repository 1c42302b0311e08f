"""The messages that hand a job to a worker. Built here by actor name, so admission needs no
actor object (and the actors' module, which imports the runner, is not imported by admission)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

from processing.jobs.kinds import get_processor


def actor_name(kind: str) -> str:
    return f"run_{kind}"


def _message(kind: str, job_id: uuid.UUID | str) -> dramatiq.Message:
    return dramatiq.Message(
        queue_name=get_processor(kind).queue,
        actor_name=actor_name(kind),
        args=(str(job_id),),
        kwargs={},
        options={},
    )


def send_job(kind: str, job_id: uuid.UUID | str) -> None:
    dramatiq.get_broker().enqueue(_message(kind, job_id))


def send_jobs(kind: str, job_ids: Sequence[uuid.UUID | str]) -> None:
    """Send many jobs' messages in one Redis round trip (one at a time on other brokers)."""
    broker = dramatiq.get_broker()
    if not isinstance(broker, RedisBroker) or len(job_ids) < 2:
        for job_id in job_ids:
            broker.enqueue(_message(kind, job_id))
        return
    messages = [_message(kind, job_id).copy(options={"redis_message_id": str(uuid.uuid4())}) for job_id in job_ids]
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
