import psutil
import pytest

from processing.engine.registry import worker_list
from tests.support.waiting import wait_for
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_background_removal_worker_without_its_model_refuses_to_start(tmp_path):
    worker = WorkerProcess(queues=["remove_bg"], extra_env={"REMBG_HOME": str(tmp_path)})
    with pytest.raises(RuntimeError, match="exited with 3"):
        worker.start()
    worker.stop()
    assert "run `python manage.py fetch_models`" in worker.output()


def test_a_worker_for_other_queues_starts_without_the_model(tmp_path):
    worker = WorkerProcess(queues=["transform"], extra_env={"REMBG_HOME": str(tmp_path)}).start()
    worker.stop()
    assert "missing" not in worker.output()


def test_a_worker_asked_for_a_gpu_provider_onnxruntime_lacks_refuses_to_start():
    worker = WorkerProcess(queues=["remove_bg"], extra_env={"REMBG_PROVIDERS": "CUDAExecutionProvider"})
    with pytest.raises(RuntimeError, match="exited with 4"):
        worker.start()
    worker.stop()
    output = worker.output()
    assert "REMBG_PROVIDERS=CUDAExecutionProvider cannot run here" in output
    assert "has no CUDAExecutionProvider" in output and "REMBG_PROVIDER_FALLBACK=cpu" in output


def test_a_worker_reports_the_provider_it_really_runs_on(client):
    worker = WorkerProcess(
        queues=["remove_bg"],
        extra_env={"REMBG_PROVIDERS": "CUDAExecutionProvider,CPUExecutionProvider", "REMBG_PROVIDER_FALLBACK": "cpu"},
    ).start()
    try:
        pids = {p.pid for p in psutil.Process(worker.proc.pid).children(recursive=True)} | {worker.proc.pid}
        record = wait_for(
            lambda: next((w for w in worker_list() if w["pid"] in pids), None), timeout=30, what="a heartbeat"
        )
        assert record["providers"] == ["CPUExecutionProvider"]
        assert "CPUExecutionProvider" in client.get("/health/").json()["workers"]["providers"]
    finally:
        worker.stop()
    assert "rembg model u2netp runs on CPUExecutionProvider" in worker.output()
