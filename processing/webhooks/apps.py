from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "processing.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from processing.jobs import signals
        from processing.webhooks import receivers

        signals.job_finished.connect(receivers.on_job_finished, dispatch_uid="webhooks.job_finished")
        signals.batch_finished.connect(receivers.on_batch_finished, dispatch_uid="webhooks.batch_finished")
