from django.db import migrations, models

# The seeded plans' new limit (vendors/plans.py), as 0004 did for uploads; "unlimited" and
# operators' own plans keep none.
NEW_LIMITS = {"standard": {"ai_calls_limit": 500}, "premium": {"ai_calls_limit": 5000}}


def seed_limits(apps, schema_editor):
    Plan = apps.get_model("vendors", "Plan")
    for slug, limits in NEW_LIMITS.items():
        Plan.objects.filter(slug=slug, ai_calls_limit__isnull=True).update(**limits)


class Migration(migrations.Migration):
    dependencies = [
        ("vendors", "0009_deletion_retention_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="ai_calls_limit",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="ai_endpoint jobs (and pipeline steps) per window: the AI bill's budget.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="ai_calls_window_s",
            field=models.PositiveIntegerField(default=86400),
        ),
        migrations.RunPython(seed_limits, migrations.RunPython.noop),
    ]
