"""No record without its file, no file without its record: a failed write leaves nothing, a
result whose row update failed is removed, and the orphan sweep removes files nobody names.
Real storage (the local file system) and the real MariaDB."""

import os
import resource
import signal
import time
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


def test_the_sweep_removes_old_result_files_that_nothing_names(running, settings):
    settings.RESULT_ORPHAN_GRACE_S = 60
    assert services.job_succeed(job=running, run_token=running.run_token, output=tiny_png())
    applied = Job.objects.get(pk=running.pk).result["name"]
    folder = f"results/{running.vendor_id}/{running.pk}"
    orphan = default_storage.save(f"{folder}/dead-run.png", ContentFile(b"x"))
    fresh = default_storage.save(f"{folder}/writing-now.png", ContentFile(b"x"))
    stranger = default_storage.save("results/999/not-a-job-id/left.png", ContentFile(b"x"))
    hour_ago = time.time() - 3600
    for name in (applied, orphan, stranger):
        os.utime(default_storage.path(name), (hour_ago, hour_ago))
    # (Other tests' files in this run's media dir may go too: they are not named by a row here.)
    assert services.results_remove_orphans(now=timezone.now() + timedelta(seconds=1)) >= 2
    assert default_storage.exists(applied), "the applied result stays"
    assert default_storage.exists(fresh), "a file younger than the grace period may be a run's, not yet recorded"
    assert not default_storage.exists(orphan) and not default_storage.exists(stranger)
