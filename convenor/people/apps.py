from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "convenor.people"
    label = "people"
    verbose_name = "People and organisations"
