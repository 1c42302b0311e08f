"""Jobs handed to Dramatiq whose message is gone (Redis restarted without persistence, a queue
flushed, a worker that died with the message prefetched) are found in seconds and handed over
again, by looking at what the Redis broker really holds rather than waiting for a timeout.

A message is alive while its id is in its queue's message hash (`<ns>:<queue>.msgs`, or the
delay queue's) and in its queue's list or in the ack set of a worker that is alive (its
Dramatiq heartbeat, which engine/leases.py keeps fresh, is recent). A job whose latest message
(by dispatch count) is not alive is lost. A false alarm costs only a new dispatch: the old
message, if it turns up, no longer matches the job's count and starts nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name

from processing.engine.messages import job_of
from processing.jobs import selectors, services
from processing.jobs.kinds import get_processor

logger = logging.getLogger(__name__)


def requeue_lost_messages() -> int:
    """Hand over again the jobs dispatched at least LOST_MESSAGE_CHECK_S ago, not started, whose
    message the broker no longer holds. Returns how many. On a broker it cannot look into
    (tests' stub broker) it does nothing: the age-based sweep covers them."""
    broker = dramatiq.get_broker()
    if not isinstance(broker, RedisBroker):
        return 0
    before = timezone.now() - timedelta(seconds=settings.LOST_MESSAGE_CHECK_S)
    waiting = selectors.ops_jobs_awaiting_start(dispatched_before=before)
    if not waiting:
        return 0
    alive = live_messages(broker, {get_processor(kind).queue for _, kind, _ in waiting})
    lost = {job_id: n for job_id, _, n in waiting if (str(job_id), n) not in alive}
    return services.jobs_requeue_lost(dispatches=lost) if lost else 0


def live_worker_ids(broker: RedisBroker) -> list[str]:
    """Dramatiq workers whose heartbeat is recent: three lease renewals' worth."""
    recent = current_millis() - 3_000 * max(settings.JOB_LEASE_RENEW_S, 1.0)
    return [w.decode() for w in broker.client.zrangebyscore(f"{broker.namespace}:__heartbeats__", recent, "+inf")]


def live_messages(broker: RedisBroker, queues: set[str]) -> set[tuple[str, int | None]]:
    """(job id, dispatch count) of every live message on `queues`, read in one MULTI/EXEC, so a
    message moving from a queue to a worker's ack set is seen in one place or the other."""
    ns = broker.namespace
    workers = live_worker_ids(broker)
    names = [name for queue in sorted(queues) for name in (queue, dq_name(queue))]
    with broker.client.pipeline(transaction=True) as pipe:
        for name in names:
            pipe.lrange(f"{ns}:{name}", 0, -1)
            pipe.hgetall(f"{ns}:{name}.msgs")
            for worker in workers:
                pipe.smembers(f"{ns}:__acks__.{worker}.{name}")
        replies = iter(pipe.execute())
    alive: set[tuple[str, int | None]] = set()
    for _ in names:
        listed = set(next(replies))
        stored = next(replies)
        for _ in workers:
            listed |= next(replies)
        for message_id, data in stored.items():
            if message_id in listed:
                try:
                    alive.add(job_of(dramatiq.Message.decode(data)))
                except Exception:  # not a job's message (thumbnails share no queue, but be safe)
                    continue
    return alive
