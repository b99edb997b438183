from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "convenor.events"
    label = "events"
    verbose_name = "Events"
