from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "processing.api"
    label = "api"
    verbose_name = "REST API"
