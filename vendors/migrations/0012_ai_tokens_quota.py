from django.db import migrations, models

# The seeded plans' new limit (vendors/plans.py), as 0010 did for AI calls: about 2,000 tokens per
# call of their call budgets. "unlimited" and operators' own plans keep none.
NEW_LIMITS = {"standard": {"ai_tokens_limit": 1_000_000}, "premium": {"ai_tokens_limit": 10_000_000}}


def seed_limits(apps, schema_editor):
    Plan = apps.get_model("vendors", "Plan")
    for slug, limits in NEW_LIMITS.items():
        Plan.objects.filter(slug=slug, ai_tokens_limit__isnull=True).update(**limits)


class Migration(migrations.Migration):
    dependencies = [
        ("vendors", "0011_exports_offboarding"),
    ]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="ai_tokens_limit",
            field=models.PositiveBigIntegerField(
                blank=True,
                help_text="AI tokens (input + output, as the providers count them) per window. Counted once a "
                "job's calls are answered: new ai_endpoint jobs are refused once it is reached.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="ai_tokens_window_s",
            field=models.PositiveIntegerField(default=86400),
        ),
        migrations.RunPython(seed_limits, migrations.RunPython.noop),
    ]
