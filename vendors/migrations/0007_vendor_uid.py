"""Vendor.uid: a random key per vendor that Redis counters are keyed by (never a reused id).
Added empty, filled for every existing vendor, then made unique."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Vendor = apps.get_model("vendors", "Vendor")
    for pk in Vendor.objects.filter(uid__isnull=True).values_list("pk", flat=True).iterator():
        Vendor.objects.filter(pk=pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("vendors", "0006_never_expiring_api_keys")]

    operations = [
        migrations.AddField(model_name="vendor", name="uid", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="vendor",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
