"""Feedback's pages, mounted at /ideas/ (their views live in the web app)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "feedback"

urlpatterns: list[URLPattern] = []
