from django.db import migrations

from vendors.plans import PLANS


def seed(apps, schema_editor):
    Plan = apps.get_model("vendors", "Plan")
    for plan in PLANS:
        Plan.objects.get_or_create(slug=plan["slug"], defaults=plan)


class Migration(migrations.Migration):
    dependencies = [("vendors", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
