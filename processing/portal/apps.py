from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "processing.portal"
    label = "portal"
