import hashlib

from django.db import migrations, models


def digest_existing_keys(apps, schema_editor):
    """Keys kept so far get the digest of their bytes; they were unique case-insensitively, so
    their digests are unique too."""
    key_model = apps.get_model("processing", "IdempotencyKey")
    for pk, key in key_model.objects.values_list("pk", "key").iterator():
        key_model.objects.filter(pk=pk).update(key_digest=hashlib.sha256(key.encode()).hexdigest())


class Migration(migrations.Migration):
    """Idempotency keys compare byte-exactly (issue 22): matched by the SHA-256 of their bytes, not
    by the column's case- and trailing-space-insensitive collation."""

    dependencies = [
        ("processing", "0008_job_leases_and_dispatch_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="key_digest",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(digest_existing_keys, migrations.RunPython.noop),
        # The new unique index first: MySQL keeps the vendor foreign key on an index starting with it.
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                fields=("vendor", "key_digest"), name="uniq_idempotency_key_digest_per_vendor"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="idempotencykey",
            name="uniq_idempotency_key_per_vendor",
        ),
    ]
