from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "convenor.api"
    label = "api"
    verbose_name = "JSON API"
