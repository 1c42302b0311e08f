"""A real worker process shows up in the registry with its pid, queues, threads and the jobs
in its hands, and is shown as lost once it is killed."""

import signal

import psutil
import pytest

from processing.engine.registry import worker_list
from tests.factories import make_job
from tests.support.queues import ISOLATED_QUEUE
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class ProcessTree:
    """The pids of a worker's process tree, looked up at each test: Dramatiq forks its worker
    process after `start()` returns, so a set taken at once may miss the one that reports in.
    Pids seen once stay, so a killed tree is still recognised."""

    def __init__(self, worker: WorkerProcess) -> None:
        self._root = worker.proc.pid
        self._seen = {self._root}

    def __contains__(self, pid: object) -> bool:
        try:
            self._seen |= {p.pid for p in psutil.Process(self._root).children(recursive=True)}
        except psutil.Error:  # killed: what was seen is the tree
            pass
        return pid in self._seen


def test_a_worker_reports_in_and_is_shown_lost_after_it_is_killed(clean_redis, vendor, superuser, client, settings):
    settings.WORKER_LOST_AFTER_S = 2
    # The isolated queue: the shared e2e worker never takes its jobs.
    worker = WorkerProcess(threads=2, queues=[ISOLATED_QUEUE], extra_env={"WORKER_HEARTBEAT_S": "0.3"}).start()
    try:
        pids = ProcessTree(worker)

        def ours():
            return next((w for w in worker_list() if w["pid"] in pids), None)

        seen = wait_for(ours, timeout=30, what="the worker's first heartbeat")
        assert seen["queues"] == [ISOLATED_QUEUE]
        assert seen["threads"] == 2
        assert seen["lost"] is False and seen["jobs_in_hand"] == 0

        make_job(vendor, kind="isolated", params={"seconds": 3, "steps": 3})
        wait_for(lambda: ours()["jobs_in_hand"] == 1, timeout=30, what="the job showing in the worker's hands")
        wait_for(lambda: ours()["jobs_in_hand"] == 0, timeout=30, what="the job leaving the worker's hands")

        client.force_login(superuser)
        listed = client.get("/admin/queues/data.json").json()["workers"]
        assert [w["pid"] for w in listed if w["pid"] in pids] == [seen["pid"]]

        worker.kill(signal.SIGKILL)
        lost = wait_for(lambda: ours()["lost"] and ours(), timeout=30, what="the killed worker being shown as lost")
        assert lost["silent_s"] >= 2
        assert next(w for w in client.get("/admin/queues/data.json").json()["workers"] if w["pid"] in pids)["lost"]
    finally:
        worker.stop()


def test_a_worker_killed_holding_a_job_shows_none_in_hand_and_leaves_the_list_once_gone(
    clean_redis, vendor, superuser, client, settings
):
    settings.WORKER_LOST_AFTER_S = 1
    settings.WORKER_RECORD_TTL_S = 4
    worker = WorkerProcess(
        threads=1, queues=[ISOLATED_QUEUE], extra_env={"WORKER_HEARTBEAT_S": "0.3", "WORKER_RECORD_TTL_S": "4"}
    ).start()
    client.force_login(superuser)
    try:
        pids = ProcessTree(worker)

        def listed():
            return [w for w in client.get("/admin/queues/data.json").json()["workers"] if w["pid"] in pids]

        make_job(vendor, kind="isolated", params={"seconds": 30, "steps": 30})
        wait_for(lambda: [w["jobs_in_hand"] for w in listed()] == [1], timeout=30, what="the job in the worker's hands")

        worker.kill(signal.SIGKILL)
        lost = wait_for(lambda: [w for w in listed() if w["lost"]], timeout=30, what="the killed worker shown lost")
        assert lost[0]["jobs_in_hand"] == 0
        assert lost[0]["jobs_held_when_lost"] == 1

        wait_for(lambda: listed() == [], timeout=30, what="the lost worker leaving the list")
        assert client.get("/admin/queues/data.json").json()["gone_after_s"] == 4
    finally:
        worker.stop()
