"""Listening's pages, mounted at /listening/ (their views live in the web app)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "listening"

urlpatterns: list[URLPattern] = []
