from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "processing.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from processing.api.events.slots import stream_slots_delete
        from vendors.signals import vendor_offboarded

        vendor_offboarded.connect(stream_slots_delete, dispatch_uid="api.stream_slots")
