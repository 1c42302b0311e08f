"""The webhook tables were created by processing's 0003; this migration only takes the models
into this app's state (see processing 0004), so no data moves."""

import django.db.models.deletion
import uuid

from django.db import migrations, models

import processing.webhooks.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("processing", "0004_webhooks_move_to_their_app"),
        ("vendors", "0002_seed_plans"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=2000)),
                        ('secret', models.CharField(max_length=128)),
                        ('events', models.JSONField(default=processing.webhooks.models.all_events)),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('vendor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to='vendors.vendor')),
                    ],
                    options={
                        'ordering': ['-created_at'],
                        'db_table': 'processing_webhookendpoint',
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('delivery_id', models.UUIDField(db_index=True, default=uuid.uuid4)),
                        ('event', models.CharField(choices=[('job.succeeded', 'Job Succeeded'), ('job.failed', 'Job Failed'), ('batch.finished', 'Batch Finished')], max_length=32)),
                        ('payload', models.JSONField()),
                        ('attempt', models.PositiveSmallIntegerField(default=1)),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_excerpt', models.CharField(blank=True, max_length=500)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookendpoint')),
                    ],
                    options={
                        'verbose_name_plural': 'webhook deliveries',
                        'db_table': 'processing_webhookdelivery',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['endpoint', '-created_at'], name='processing__endpoin_2ccc0c_idx')],
                    },
                ),
            ],
        )
    ]
