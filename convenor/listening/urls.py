"""Listening's pages, mounted at /listening/ (their views live in the web app)."""

from django.urls import path

from convenor.web import views_listening as v

app_name = "listening"

urlpatterns = [
    path("", v.source_list, name="source_list"),
    path("sources/<int:source_id>/", v.source_detail, name="source_detail"),
    path("sources/<int:source_id>/upload/", v.source_upload, name="source_upload"),
    path("sources/<int:source_id>/refresh/", v.source_refresh, name="source_refresh"),
    path("posts/", v.post_list, name="post_list"),
    path("runs/", v.run_list, name="run_list"),
    path("runs/<int:run_id>/", v.run_detail, name="run_detail"),
    path("runs/<int:run_id>/progress.json", v.run_progress, name="run_progress"),
    path("share-of-voice/", v.share_of_voice, name="sov"),
    path("brands/", v.brand_list, name="brand_list"),
    path("brands/aliases/<int:alias_id>/remove/", v.alias_remove, name="alias_remove"),
    path("hangouts/", v.hangouts, name="hangouts"),
    path("people/", v.observed_people, name="observed"),
]
