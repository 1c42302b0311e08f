"""`manage.py darkroom …` as an operator uses it: output, exit codes, errors on stderr."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from processing.engine.tasks import actor_for
from processing.jobs import services
from processing.jobs.models import Batch, Job
from tests.factories import image_upload, make_record, make_vendor
from tests.support.commands import command_output
from tests.support.paths import ROOT
from tests.worker import database_url
from vendors.models import Priority
from vendors.services import vendor_set_paused

pytestmark = pytest.mark.django_db(transaction=True)


def darkroom(*args: str) -> subprocess.CompletedProcess:
    """The command in its own process, on this test's database and Redis, as from a terminal."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": database_url(),
        "TEST_REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "darkroom", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def run(*args: str) -> str:
    return command_output("darkroom", *args)


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as raised:
        run(*args)
    return raised.value


def test_submit_one_image_prints_the_job_id_and_exits_0(vendor, clean_redis, tmp_path):
    image = tmp_path / "shoe.png"
    image.write_bytes(image_upload().read())
    vendor_set_paused(vendor=vendor, paused=True)  # so no test worker runs the transform

    done = darkroom("submit", str(image), "--vendor", "acme", "--kind", "transform", "--params", '{"width": 4}')

    assert done.returncode == 0, done.stderr
    job = Job.objects.get(pk=done.stdout.strip())
    assert (job.vendor, job.kind, job.params["width"], job.state) == (vendor, "transform", 4, "queued")
    assert job.record.original_filename == "shoe.png"


def test_several_images_make_a_batch_whose_id_is_printed_with_its_jobs(vendor, clean_redis, tmp_path):
    paths = []
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / name).write_bytes(image_upload().read())
        paths.append(str(tmp_path / name))

    lines = run("submit", *paths, "--vendor", "acme", "--kind", "isolated", "--priority", "high").split()

    assert lines[0] == "batch"
    batch = Batch.objects.get(pk=lines[1])
    assert (batch.total, batch.kind, batch.priority) == (3, "isolated", Priority.HIGH)
    assert sorted(lines[2:]) == sorted(str(pk) for pk in batch.jobs.values_list("pk", flat=True))


def test_unknown_ids_exit_1_with_the_reason_on_stderr(db, clean_redis):
    done = darkroom("status", "00000000-0000-0000-0000-000000000000")
    assert done.returncode == 1
    assert "no job or batch 00000000-0000-0000-0000-000000000000" in done.stderr
    assert done.stdout == ""


def test_bad_usage_exits_2(vendor, clean_redis, tmp_path):
    assert darkroom("submit", "--vendor", "acme").returncode == 2  # no image, no kind
    image = tmp_path / "x.png"
    image.write_bytes(image_upload().read())
    bad_params = darkroom("submit", str(image), "--vendor", "acme", "--kind", "transform", "--params", "{nope")
    assert bad_params.returncode == 2 and "--params is not JSON" in bad_params.stderr
    assert refused("submit", str(image), "--vendor", "acme", "--kind", "paint").returncode == 2
    assert refused("submit", str(image), "--vendor", "nobody", "--kind", "transform").returncode == 1
    assert not Job.objects.exists()


def test_monitor_ends_with_0_for_a_success_and_1_for_a_failure(vendor, clean_redis):
    ok = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    actor_for("isolated")(str(ok.pk))
    assert run("monitor", str(ok.pk)).strip().endswith("succeeded done")
    assert "100.0%" in run("monitor", str(ok.pk))

    broken = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    broken.record.original.delete()  # its input is gone: a permanent failure
    actor_for("isolated")(str(broken.pk))
    error = refused("monitor", str(broken.pk))
    assert error.returncode == 1 and "did not succeed" in str(error)


def test_monitor_follows_a_batch_until_every_job_ended(vendor, clean_redis):
    batch = services.batch_create(vendor=vendor, kind="isolated", uploads=[image_upload(), image_upload()])
    for job in batch.jobs.all():
        actor_for("isolated")(str(job.pk))
    output = run("monitor", str(batch.pk))
    assert "succeeded 2" in output and "100.0%" in output


def test_status_list_and_stats(vendor, clean_redis):
    other = make_vendor("globex")
    mine = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    vendor_set_paused(vendor=other, paused=True)  # so no test worker runs its transform
    theirs = services.job_create(vendor=other, kind="transform", record=make_record(other))

    status = run("status", str(mine.pk))
    assert f"job:       {mine.pk}" in status and "vendor:    acme" in status and "state:     queued" in status

    listed = run("list", "--vendor", "globex")
    assert str(theirs.pk) in listed and str(mine.pk) not in listed
    assert str(mine.pk) in run("list", "--kind", "isolated", "--state", "queued")
    assert str(mine.pk) not in run("list", "--state", "succeeded")
    assert len(run("list", "--limit", "1").splitlines()) == 2  # the header and one job

    stats = {line.split()[0]: line.split()[1:] for line in run("stats").splitlines()}
    assert stats["kind"][-1] == "total"
    assert stats["isolated"][-1] == "1" and stats["transform"][-1] == "1" and stats["remove_bg"][-1] == "0"


def test_cancel_then_retry_a_job(vendor, clean_redis):
    job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    assert run("cancel", str(job.pk)).strip() == f"cancelled job {job.pk}"
    assert Job.objects.get(pk=job.pk).state == "cancelled"
    assert refused("cancel", str(job.pk)).returncode == 1, "a cancelled job cannot be cancelled again"

    assert run("retry", str(job.pk)).strip() == f"queued job {job.pk} again"
    assert Job.objects.get(pk=job.pk).state == "queued"
    assert refused("retry", str(job.pk)).returncode == 1, "a queued job cannot be retried"


def test_cancel_a_batch_cancels_its_unfinished_jobs(vendor, clean_redis):
    batch = services.batch_create(vendor=vendor, kind="isolated", uploads=[image_upload(), image_upload()])
    assert run("cancel", str(batch.pk)).strip() == f"cancelled 2 jobs of batch {batch.pk}"
    assert set(batch.jobs.values_list("state", flat=True)) == {"cancelled"}


def test_cleanup_removes_finished_jobs_past_retention(vendor, clean_redis):
    old = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    actor_for("isolated")(str(old.pk))
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=30))
    fresh = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))

    assert run("cleanup").startswith("removed 1 jobs")
    assert list(Job.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_health_says_ok_when_the_database_and_redis_answer(db, clean_redis):
    assert run("health").startswith("ok")


def test_usage_prints_a_month_per_vendor_and_kind_or_its_csv(vendor):
    from datetime import date

    from processing.jobs import usage

    def add(who, day, kind, **amounts):
        usage.usage_add(counts=[usage.Count(vendor_id=who.pk, kind=kind, day=day, amounts=amounts)])

    globex = make_vendor("globex")
    add(vendor, date(2026, 11, 2), "remove_bg", submitted=5, succeeded=4, failed=1, images=4)
    add(vendor, date(2026, 11, 30), "remove_bg", submitted=2, succeeded=2, images=2)
    add(globex, date(2026, 11, 9), "transform", submitted=3, succeeded=3, images=3)
    add(globex, date(2026, 12, 1), "transform", submitted=50, succeeded=50, images=50)

    lines = run("usage", "--month", "2026-11").splitlines()
    assert lines[0].split() == [
        "vendor", "kind", "submitted", "succeeded", "failed", "cancelled", "images",
        "input_bytes", "output_bytes", "ai_calls", "worker_s",
    ]  # fmt: skip
    assert lines[1].split()[:7] == ["acme", "remove_bg", "7", "6", "1", "0", "6"]
    assert lines[2].split()[:7] == ["globex", "transform", "3", "3", "0", "0", "3"]
    assert lines[3].split()[:6] == ["total", "10", "9", "1", "0", "9"]
    assert run("usage", "--month", "2026-11", "--vendor", "globex").splitlines()[1].split()[0] == "globex"

    out = run("usage", "--month", "2026-11", "--csv")
    assert out.splitlines()[0].startswith("month,vendor,kind,submitted,succeeded,failed,cancelled,images")
    assert out.splitlines()[1:] == [
        "2026-11,acme,remove_bg,7,6,1,0,6,0,0,0,0,0,0.000",
        "2026-11,globex,transform,3,3,0,0,3,0,0,0,0,0,0.000",
    ]
    finished = darkroom("usage", "--month", "2026-13")
    assert finished.returncode == 2 and "is not a month written YYYY-MM" in finished.stderr
