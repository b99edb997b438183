from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "convenor.activity"
    label = "activity"
    verbose_name = "Activity log"
