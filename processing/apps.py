from django.apps import AppConfig


class ProcessingConfig(AppConfig):
    name = "processing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events, signals
        from .webhooks import receivers as webhook_receivers

        # Live event streams hear of finished jobs and batches; so do the vendor's webhooks.
        signals.job_finished.connect(events.on_job_finished, dispatch_uid="events.job_finished")
        signals.batch_finished.connect(events.on_batch_finished, dispatch_uid="events.batch_finished")
        signals.job_finished.connect(webhook_receivers.on_job_finished, dispatch_uid="webhooks.job_finished")
        signals.batch_finished.connect(webhook_receivers.on_batch_finished, dispatch_uid="webhooks.batch_finished")
