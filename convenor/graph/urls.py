"""The map's pages, mounted at /map/ (their views live in the web app)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "map"

urlpatterns: list[URLPattern] = []
