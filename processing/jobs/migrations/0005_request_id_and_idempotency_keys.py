# Request ids on jobs; Idempotency-Key moves from a column of jobs to its own table (IETF draft).

import django.db.models.deletion
from django.db import migrations, models


def keys_to_their_table(apps, schema_editor):
    """Keys of existing jobs keep answering with their job. They had no fingerprint: any body
    replays them, as before."""
    Job = apps.get_model("processing", "Job")
    IdempotencyKey = apps.get_model("processing", "IdempotencyKey")
    keyed = Job.objects.exclude(idempotency_key=None).exclude(idempotency_key="")
    rows = keyed.values_list("pk", "vendor_id", "idempotency_key").iterator()
    batch = []
    for job_id, vendor_id, key in rows:
        batch.append(IdempotencyKey(vendor_id=vendor_id, key=key, state="done", job_id=job_id))
        if len(batch) == 1000:
            IdempotencyKey.objects.bulk_create(batch)
            batch = []
    IdempotencyKey.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('processing', '0004_webhooks_move_to_their_app'),
        ('vendors', '0002_seed_plans'),
    ]

    operations = [
        migrations.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=255)),
                ('fingerprint', models.CharField(blank=True, max_length=64)),
                ('state', models.CharField(choices=[('in_progress', 'In Progress'), ('done', 'Done')], default='in_progress', max_length=16)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name='job',
            name='request_id',
            field=models.CharField(db_default='', blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name='idempotencykey',
            name='batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='processing.batch'),
        ),
        migrations.AddField(
            model_name='idempotencykey',
            name='job',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='processing.job'),
        ),
        migrations.AddField(
            model_name='idempotencykey',
            name='vendor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='idempotency_keys', to='vendors.vendor'),
        ),
        migrations.AddIndex(
            model_name='idempotencykey',
            index=models.Index(fields=['created_at'], name='processing__created_c68324_idx'),
        ),
        migrations.AddConstraint(
            model_name='idempotencykey',
            constraint=models.UniqueConstraint(fields=('vendor', 'key'), name='uniq_idempotency_key_per_vendor'),
        ),
        migrations.RunPython(keys_to_their_table, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='job',
            name='uniq_job_idempotency_key',
        ),
        migrations.RemoveField(
            model_name='job',
            name='idempotency_key',
        ),
    ]
