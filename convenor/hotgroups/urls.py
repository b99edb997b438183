"""Hot groups's pages, mounted at /hotgroups/ (their views live in the web app)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "hotgroups"

urlpatterns: list[URLPattern] = []
