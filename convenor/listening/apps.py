from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "convenor.listening"
    label = "listening"
    verbose_name = "Listening"
