from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The jobs core. Its label stays `processing`, so tables and migrations keep their names."""

    name = "processing.jobs"
    label = "processing"
    verbose_name = "Processing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from processing.jobs import events, signals

        # Live event streams hear of finished jobs and batches.
        signals.job_finished.connect(events.on_job_finished, dispatch_uid="events.job_finished")
        signals.batch_finished.connect(events.on_batch_finished, dispatch_uid="events.batch_finished")
