"""The map's pages, mounted at /map/ (their views live in the web app)."""

from django.urls import URLPattern, path

from convenor.web import views_map as views

app_name = "map"

urlpatterns: list[URLPattern] = [
    path("", views.map_page, name="index"),
    path("data.json", views.map_data, name="data"),
    path("build/", views.map_build, name="build"),
    path("update/", views.map_update, name="update"),
    path("people/<int:member_id>.json", views.member_ego, name="member_ego"),
    path("organizations/<int:org_id>.json", views.org_ego, name="org_ego"),
    path("snapshots/", views.snapshot_list, name="snapshots"),
    path("snapshots/new/", views.snapshot_create, name="snapshot_create"),
    path("snapshots/delete/", views.snapshot_delete, name="snapshot_delete"),
    path("compare/", views.compare_page, name="compare"),
    path("export/", views.export, name="export"),
]
