"""No record without its file, no file without its record: a failed write leaves nothing, a
result whose row update failed is removed, and the orphan sweep removes files nobody names.
Real storage (the local file system) and the real MariaDB."""

import resource
import signal
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.processors import tiny_png
from tests.support.row_locks import job_row_locked

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running(vendor):
    job = services.job_create(vendor=vendor, kind="isolated", params={}, record=make_record(vendor))
    return services.job_start(job_id=job.pk)


def files_of(job) -> list[str]:
    folder = f"results/{job.vendor_id}/{job.pk}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


def test_a_failed_write_leaves_no_file(running):
    """The file system refuses the write part-way (the file-size limit, as a full disk would)."""
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, hard))
    try:
        with pytest.raises(OSError):
            services.job_succeed(job=running, run_token=running.run_token, output=tiny_png())
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert files_of(running) == [], "no partial or empty file is left"
    assert Job.objects.get(pk=running.pk).state == "running"


def test_a_result_whose_row_update_failed_is_removed(running):
    """Another transaction holds the job's row past every lock wait: the update fails, the
    database says it was not made, and the file goes."""
    with job_row_locked(running.pk):
        with pytest.raises(OperationalError):
            services.job_succeed(job=running, run_token=running.run_token, output=tiny_png())
        assert files_of(running) == []
    assert Job.objects.get(pk=running.pk).state == "running"


def test_the_sweep_removes_the_file_of_a_run_whose_worker_died_and_never_lists_the_storage(running, settings):
    """The run stored its file and died before its row named it: the lease sweep takes the job
    back and notes the run's files in the deletion journal; the retention run removes them once
    the grace period has passed, from the journal alone (a stranger's file nobody journaled is
    not even looked at)."""
    settings.RESULT_ORPHAN_GRACE_S = 60
    folder = f"results/{running.vendor_id}/{running.pk}"
    dead = default_storage.save(f"{folder}/{running.run_token.hex}.png", ContentFile(b"x"))
    stranger = default_storage.save("results/999/not-a-job-id/left.png", ContentFile(b"x"))
    Job.objects.filter(pk=running.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.jobs_recover_stalled() == 1
    retried = services.job_start(job_id=running.pk)
    assert services.job_succeed(job=retried, run_token=retried.run_token, output=tiny_png())
    applied = Job.objects.get(pk=running.pk).result["name"]

    assert services.storage_sweep() == 0, "within the grace period the dead run's file may still be written"
    assert default_storage.exists(dead)
    listed = []
    original_listdir = type(default_storage._wrapped).listdir

    def listdir(self, path):
        listed.append(path)
        return original_listdir(self, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(default_storage._wrapped), "listdir", listdir)
        assert services.storage_sweep(now=timezone.now() + timedelta(seconds=61)) == 1

    assert not default_storage.exists(dead)
    assert default_storage.exists(applied), "the applied result stays"
    assert default_storage.exists(stranger), "nothing journaled it: the sweep never lists the storage"
    assert listed == [folder], "only the dead run's own folder was listed"
    default_storage.delete(stranger)
