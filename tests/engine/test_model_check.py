import pytest

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
