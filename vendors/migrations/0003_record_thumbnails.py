from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("vendors", "0002_seed_plans")]

    operations = [
        migrations.AddField(
            model_name="record",
            name="original_thumbnail",
            field=models.FileField(blank=True, max_length=500, upload_to=""),
        ),
        migrations.AddField(
            model_name="record",
            name="processed_thumbnail",
            field=models.FileField(blank=True, max_length=500, upload_to=""),
        ),
    ]
