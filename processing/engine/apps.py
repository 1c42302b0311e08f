from django.apps import AppConfig


class EngineConfig(AppConfig):
    """Admission, the job runner, the Dramatiq actors and the worker middlewares."""

    name = "processing.engine"
    label = "engine"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from processing.engine import deletions, receivers, thumbnails
        from processing.jobs.signals import job_finished, storage_deletions_journaled
        from vendors.models import Record
        from vendors.signals import vendor_limits_changed

        vendor_limits_changed.connect(receivers.on_vendor_limits_changed, dispatch_uid="engine.vendor_limits")
        post_save.connect(thumbnails.on_record_saved, sender=Record, dispatch_uid="engine.record_thumbnail")
        job_finished.connect(thumbnails.on_job_finished, dispatch_uid="engine.result_thumbnail")
        storage_deletions_journaled.connect(
            deletions.on_storage_deletions_journaled, dispatch_uid="engine.storage_deletions"
        )
