"""Webhook models now belong to the `webhooks` app (processing/webhooks). Their tables stay as
they are: this only takes them out of this app's state; webhooks' 0001 takes them into its own."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("processing", "0003_webhooks")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="WebhookEndpoint"),
            ],
            database_operations=[],
        )
    ]
