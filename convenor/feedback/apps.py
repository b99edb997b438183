from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "convenor.feedback"
    label = "feedback"
    verbose_name = "Feedback"
