from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "processing.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from processing.jobs import signals
        from processing.webhooks import receivers
        from processing.webhooks.models import WebhookEndpoint

        signals.job_finished.connect(receivers.on_job_finished, dispatch_uid="webhooks.job_finished")
        signals.batch_finished.connect(receivers.on_batch_finished, dispatch_uid="webhooks.batch_finished")
        signals.retention_ran.connect(receivers.on_retention_ran, dispatch_uid="webhooks.retention_ran")
        post_save.connect(receivers.on_endpoint_changed, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_saved")
        post_delete.connect(
            receivers.on_endpoint_changed, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_gone"
        )
