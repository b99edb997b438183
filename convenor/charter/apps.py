from django.apps import AppConfig


class CharterConfig(AppConfig):
    name = "convenor.charter"
    label = "charter"
    verbose_name = "Community charter"

    def ready(self) -> None:
        # Community events are held to the charter by the same scoring function as posts.
        from convenor.charter.policy import event_policy
        from convenor.events.charter import set_policy

        set_policy(event_policy)
