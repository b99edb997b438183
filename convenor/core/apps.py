from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "convenor.core"
    label = "core"
    verbose_name = "Core"
