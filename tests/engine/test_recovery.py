"""A worker killed with SIGKILL mid-job loses nothing: its lease runs out, the job is taken back,
run again once and its result applied once; a step that outlasts the lease runs once, since the
worker, not the job's code, renews it; a lost or superseded message starts nothing twice. The
tests with workers run their own on a queue the shared one ignores."""

import uuid

import pytest
from django.core.files.storage import default_storage

from processing.jobs import services
from processing.jobs.models import Job, Lane
from tests.engine.conftest import LEASE_S, STALL_ENV, job_left_by_a_killed_worker, wait_finished
from tests.factories import make_record
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_job_survives_its_worker_being_killed_and_is_applied_once(vendor_a):
    job = job_left_by_a_killed_worker(vendor_a)
    assert Job.objects.get(pk=job.pk).state == "running"  # the dead worker could not record anything

    second = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STALL_ENV).start()
    try:
        job = wait_finished([job], timeout=60).popitem()[1]
    finally:
        second.stop()
    assert job.state == "succeeded"
    assert job.attempts == 2, "the killed run counts as an attempt and the job ran again"
    _, files = default_storage.listdir(f"results/{vendor_a.pk}/{job.pk}")
    assert files == [job.result["name"].rsplit("/", 1)[1]], "the result is stored and applied once"
    job.record.refresh_from_db()
    assert job.record.processed.name == job.result["name"]


def test_a_single_step_three_times_the_lease_runs_once_and_succeeds(vendor_a):
    """No progress report for 3 leases: the worker's renewal thread keeps the job its own."""
    worker = WorkerProcess(queues=[ISOLATED_QUEUE], extra_env=STALL_ENV).start()
    try:
        job = services.job_create(
            vendor=vendor_a, kind="isolated", params={"seconds": 3 * LEASE_S, "steps": 1}, record=make_record(vendor_a)
        )
        job = wait_finished([job], timeout=60).popitem()[1]
    finally:
        worker.stop()
    assert job.state == "succeeded"
    assert job.attempts == 1 and job.attempt_errors == [], "never taken back while its worker lived"
    assert job.dispatches == 1, "handed to Dramatiq once"
    _, files = default_storage.listdir(f"results/{vendor_a.pk}/{job.pk}")
    assert len(files) == 1


def test_a_job_whose_lease_ran_out_is_taken_back_and_counted(vendor_a, settings):
    """No worker at all: the sweep alone takes the job back, as an attempt."""
    from datetime import timedelta

    from django.utils import timezone

    from processing.jobs.services import jobs_recover_stalled

    settings.JOB_LEASE_S = 5
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    started = services.job_start(job_id=job.pk)
    assert started.lease_expires_at > timezone.now()
    assert jobs_recover_stalled() == 0, "a job with a live lease is left alone"
    # A renewal by the holder extends the lease; another token's does not.
    assert services.jobs_renew_leases(held={job.pk: uuid.uuid4()}) == 0
    assert services.jobs_renew_leases(held={job.pk: started.run_token}) == 1
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    jobs_recover_stalled()  # or the session's shared worker's maintenance tick, if it comes first
    wait_for(lambda: not Job.objects.filter(pk=job.pk, state="running").exists(), timeout=10, what="recovery")
    job.refresh_from_db()
    assert job.state == "queued" and job.lane == Lane.WAITING and job.run_token is None
    assert job.attempts == 1 and [e["code"] for e in job.attempt_errors] == ["worker_lost"]
    # The dead run can no longer apply anything.
    with pytest.raises(services.JobCancelled):
        services.job_report_progress(job_id=job.pk, run_token=started.run_token, stage="x", percent=50)


def test_a_job_whose_last_attempt_lost_its_lease_fails_and_never_passes_max_attempts(vendor_a):
    from datetime import timedelta

    from django.utils import timezone

    from processing.jobs.services import jobs_recover_stalled

    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    for attempt in range(1, job.max_attempts + 1):
        started = services.job_start(job_id=job.pk)
        assert started is not None and started.attempts == attempt
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        jobs_recover_stalled()  # or the session's shared worker's maintenance tick, if it comes first
        wait_for(lambda: not Job.objects.filter(pk=job.pk, state="running").exists(), timeout=10, what="recovery")
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "worker_lost" and job.finished_at is not None
    assert job.attempts == job.max_attempts
    assert services.job_start(job_id=job.pk) is None


def test_an_older_message_of_a_job_dispatched_again_does_not_start_it(vendor_a):
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    # As admission leaves a job it handed over a second time (the first message was thought lost).
    Job.objects.filter(pk=job.pk).update(lane=Lane.IN_FLIGHT, dispatches=2)
    assert services.job_start(job_id=job.pk, dispatch=1) is None, "the first message starts nothing"
    assert not services.job_postpone(job_id=job.pk, seconds=1, reason="x", dispatch=1)
    started = services.job_start(job_id=job.pk, dispatch=2)
    assert started is not None and started.attempts == 1
    assert services.job_start(job_id=job.pk, dispatch=2) is None, "nor does the latest one twice"


def test_a_job_back_in_line_is_not_started_by_its_message(vendor_a):
    """Taken back for admission (lane WAITING), even its latest message must wait for admission."""
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    Job.objects.filter(pk=job.pk).update(lane=Lane.WAITING, dispatches=1)
    assert services.job_start(job_id=job.pk, dispatch=1) is None


def test_a_dispatched_message_that_never_arrives_is_dispatched_again(vendor_a, settings):
    from datetime import timedelta

    from django.utils import timezone

    from processing.jobs.services import jobs_recover_stalled

    settings.JOB_STALL_TIMEOUT_S = 5
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    # As admission leaves a job it handed to Dramatiq 6 s ago.
    stale = timezone.now() - timedelta(seconds=6)
    Job.objects.filter(pk=job.pk).update(lane=Lane.IN_FLIGHT, dispatched_at=stale)
    jobs_recover_stalled()  # or the session's shared worker's maintenance tick, if it comes first
    wait_for(lambda: not Job.objects.filter(pk=job.pk, dispatched_at=stale).exists(), timeout=10, what="recovery")
    job.refresh_from_db()
    assert job.state == "queued" and job.dispatched_at is None and job.lane == Lane.WAITING


def handed_over(job, *, dispatches: int) -> None:
    """Wait for the job's dispatch number `dispatches`: this test's admission pass sends it, or the
    session's shared worker's, when that one holds the kind's row lock first."""
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, lane=Lane.IN_FLIGHT, dispatches=dispatches).exists(),
        timeout=10,
        what=f"dispatch {dispatches} of the job",
    )


def test_the_lease_sweep_finds_a_message_the_broker_lost_and_dispatches_it_again(vendor_a, settings, clean_redis):
    """Real Redis, no worker on the queue: admission sends the message, Redis loses it (a restart
    without persistence), the broker-aware check sees it gone and admission sends it again with
    a new dispatch count; the old count starts nothing."""
    import dramatiq

    from processing.engine.admission import dispatch_pending
    from processing.engine.lost_messages import live_messages, requeue_lost_messages

    settings.LOST_MESSAGE_CHECK_S = 0
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    dispatch_pending(kinds=["isolated"])
    handed_over(job, dispatches=1)
    broker = dramatiq.get_broker()
    assert (str(job.pk), 1) in live_messages(broker, {ISOLATED_QUEUE})
    assert requeue_lost_messages() == 0, "a message still in its queue is alive"

    clean_redis.delete(f"{broker.namespace}:{ISOLATED_QUEUE}", f"{broker.namespace}:{ISOLATED_QUEUE}.msgs")
    # (The session's shared worker, if one runs, looks too and admits every kind: either may act.)
    requeue_lost_messages()
    job.refresh_from_db()
    assert job.state == "queued" and (job.lane == Lane.WAITING or job.dispatches == 2)
    dispatch_pending(kinds=["isolated"])
    handed_over(job, dispatches=2)
    assert (str(job.pk), 2) in live_messages(broker, {ISOLATED_QUEUE})
    assert services.job_start(job_id=job.pk, dispatch=1) is None


def test_a_message_held_by_a_dead_worker_counts_as_lost(vendor_a, settings, clean_redis):
    """A message in the ack set of a worker whose heartbeat stopped is lost to us; one in a live
    worker's ack set is not."""
    import dramatiq
    from dramatiq.common import current_millis

    from processing.engine.admission import dispatch_pending
    from processing.engine.lost_messages import requeue_lost_messages

    settings.LOST_MESSAGE_CHECK_S = 0
    job = services.job_create(vendor=vendor_a, kind="isolated", params={}, record=make_record(vendor_a))
    dispatch_pending(kinds=["isolated"])
    broker = dramatiq.get_broker()
    ns, queue = broker.namespace, f"{broker.namespace}:{ISOLATED_QUEUE}"
    # What a worker's fetch does: the id moves from the queue to its ack set. The session's
    # shared worker may be the one whose admission pass sends it (this pass then finds the kind's
    # row locked and leaves it to that one): wait for the message either way.
    message_id = wait_for(lambda: clean_redis.lpop(queue), timeout=10, what="the job's message")
    clean_redis.sadd(f"{ns}:__acks__.live-worker.{ISOLATED_QUEUE}", message_id)
    clean_redis.zadd(f"{ns}:__heartbeats__", {"live-worker": current_millis()})
    assert requeue_lost_messages() == 0
    clean_redis.zadd(f"{ns}:__heartbeats__", {"live-worker": current_millis() - 3_600_000})
    requeue_lost_messages()  # or the session's shared worker's tick, if one runs
    job.refresh_from_db()
    assert job.lane == Lane.WAITING or job.dispatches == 2, "handed over again"
