from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operators' tools: the darkroom command, /metrics and the health probes."""

    name = "processing.ops"
    label = "ops"

    def ready(self) -> None:
        from processing.ops import checks  # noqa: F401 -- registers the deploy checks
