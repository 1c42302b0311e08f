from django.db import migrations

from vendors.plans import PLANS


def seed(apps, schema_editor):
    Plan = apps.get_model("vendors", "Plan")
    # PLANS is today's; the Plan of this migration has only the fields of its time (later
    # migrations add and seed the others, e.g. 0004's upload and storage limits).
    fields = {field.name for field in Plan._meta.get_fields()}
    for plan in PLANS:
        Plan.objects.get_or_create(slug=plan["slug"], defaults={k: v for k, v in plan.items() if k in fields})


class Migration(migrations.Migration):
    dependencies = [("vendors", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
