from django.apps import AppConfig


class AdminSiteConfig(AppConfig):
    """The operators' admin for jobs, vendors and plans, and the live queue dashboard."""

    name = "processing.admin"
    label = "darkroom_admin"
    verbose_name = "Darkroom admin"

    def ready(self) -> None:
        from processing.admin import jobs, vendors, webhooks  # noqa: F401 -- registers the model admins
