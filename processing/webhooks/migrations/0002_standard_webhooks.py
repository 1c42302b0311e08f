# Standard Webhooks: secrets in whsec_<base64> form, and a previous secret kept through a rotation.

import base64

from django.db import migrations, models


def secrets_to_base64(apps, schema_editor):
    """Signatures were HMACs keyed by the secret string's bytes; the same bytes, in base64 behind
    whsec_, stay the key. A receiver verifies with the new form of its secret (docs/webhooks.md)."""
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.only("pk", "secret").iterator():
        endpoint.secret = "whsec_" + base64.b64encode(endpoint.secret.encode()).decode()
        endpoint.save(update_fields=["secret"])


def secrets_from_base64(apps, schema_editor):
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.only("pk", "secret").iterator():
        endpoint.secret = base64.b64decode(endpoint.secret.removeprefix("whsec_")).decode()
        endpoint.save(update_fields=["secret"])


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookendpoint',
            name='previous_secret',
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name='webhookendpoint',
            name='previous_secret_expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(secrets_to_base64, secrets_from_base64),
    ]
