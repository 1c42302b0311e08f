from django.apps import AppConfig


class EngineConfig(AppConfig):
    """Admission, the job runner, the Dramatiq actors and the worker middlewares."""

    name = "processing.engine"
    label = "engine"

    def ready(self) -> None:
        from processing.engine import receivers
        from vendors.signals import vendor_limits_changed

        vendor_limits_changed.connect(receivers.on_vendor_limits_changed, dispatch_uid="engine.vendor_limits")
