from django.apps import AppConfig


class CharterConfig(AppConfig):
    name = "convenor.charter"
    label = "charter"
    verbose_name = "Community charter"
