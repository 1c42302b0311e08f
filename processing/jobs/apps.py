from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The jobs core. Its label stays `processing`, so tables and migrations keep their names."""

    name = "processing.jobs"
    label = "processing"
    verbose_name = "Processing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from processing.jobs import events, signals, usage
        from vendors.models import Vendor

        # Live event streams hear of finished jobs and batches.
        signals.job_finished.connect(events.on_job_finished, dispatch_uid="events.job_finished")
        signals.batch_finished.connect(events.on_batch_finished, dispatch_uid="events.batch_finished")
        # The usage ledger outlives its vendor, named or pseudonymised, or goes with it.
        pre_delete.connect(usage.on_vendor_delete, sender=Vendor, dispatch_uid="usage.on_vendor_delete")
