from django.apps import AppConfig


class HotgroupsConfig(AppConfig):
    name = "convenor.hotgroups"
    label = "hotgroups"
    verbose_name = "Hot groups"
