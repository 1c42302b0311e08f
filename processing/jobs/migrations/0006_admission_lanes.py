"""Admission lanes (issue 12): `Job.lane`, kept by every state change, and indexes that let an
admission pass read only the rows it admits; `Batch.done`, so completion is counted, not
scanned; `KindQueue`, one row per kind that an admission pass locks instead of a Redis lock.

No CHECK constraint ties `lane` to `state`: MariaDB copies the whole table to add one (80 s on
1.1M rows when measured). The services are the one place that sets both."""

from django.db import migrations, models
from django.utils import timezone

DONE, WAITING, DEFERRED, IN_FLIGHT = 0, 1, 2, 3
FINISHED = ["cancelled", "failed", "succeeded"]


def backfill(apps, schema_editor):
    Job = apps.get_model("processing", "Job")
    Batch = apps.get_model("processing", "Batch")
    # The new column defaults to WAITING; only the other rows need writing.
    Job.objects.filter(state__in=FINISHED).update(lane=DONE)
    Job.objects.filter(state="running").update(lane=IN_FLIGHT)
    Job.objects.filter(state="queued", dispatched_at__isnull=False).update(lane=IN_FLIGHT)
    Job.objects.filter(state="queued", dispatched_at__isnull=True, not_before__gt=timezone.now()).update(
        lane=DEFERRED
    )
    finished = (
        Job.objects.filter(batch__isnull=False, state__in=FINISHED)
        .order_by()
        .values_list("batch_id")
        .annotate(n=models.Count("id"))
    )
    for batch_id, done in finished:
        Batch.objects.filter(pk=batch_id).update(done=done)


class Migration(migrations.Migration):
    dependencies = [
        ("processing", "0005_request_id_and_idempotency_keys"),
        ("vendors", "0002_seed_plans"),
    ]

    operations = [
        migrations.CreateModel(
            name="KindQueue",
            fields=[
                ("kind", models.CharField(max_length=32, primary_key=True, serialize=False)),
            ],
        ),
        migrations.AddField(
            model_name="batch",
            name="done",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="job",
            name="lane",
            field=models.PositiveSmallIntegerField(
                choices=[(0, "done"), (1, "waiting"), (2, "deferred"), (3, "in flight")], default=1, editable=False
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["kind", "lane", "vendor", "-priority", "created_at"], name="job_admission"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["lane", "kind", "vendor"], name="job_lane_vendor"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["lane", "not_before"], name="job_lane_due"),
        ),
        migrations.RemoveIndex(
            model_name="job",
            name="processing__kind_b59580_idx",
        ),
    ]
