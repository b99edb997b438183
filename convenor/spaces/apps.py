from django.apps import AppConfig


class SpacesConfig(AppConfig):
    name = "convenor.spaces"
    label = "spaces"
    verbose_name = "Spaces and conversations"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from convenor.people.models import Affiliation

        # People who join an organisation later are added to its private space; people
        # who leave lose access (access itself is computed from current affiliations).
        post_save.connect(_affiliation_saved, sender=Affiliation, dispatch_uid="spaces.affiliation_saved")


def _affiliation_saved(sender: object, instance: object, **kwargs: object) -> None:
    from convenor.people.models import Affiliation
    from convenor.spaces.services import account_space_sync_member

    if isinstance(instance, Affiliation) and not kwargs.get("raw"):
        account_space_sync_member(instance)
