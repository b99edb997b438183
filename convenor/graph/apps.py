from django.apps import AppConfig


class GraphConfig(AppConfig):
    name = "convenor.graph"
    label = "graph"
    verbose_name = "The map"
