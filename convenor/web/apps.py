from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "convenor.web"
    label = "web"
    verbose_name = "Web pages"
