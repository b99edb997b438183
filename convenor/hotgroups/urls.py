"""Hot groups's pages, mounted at /hotgroups/ (their views live in the web app)."""

from django.urls import URLPattern, path

from convenor.web import views_hotgroups as v

app_name = "hotgroups"

urlpatterns: list[URLPattern] = [
    path("", v.group_list, name="group_list"),
    path("suggestions/", v.suggestions, name="suggestions"),
    path("profiles/refresh/", v.profiles_refresh, name="profiles_refresh"),
    path("suggestions/<int:suggestion_id>/", v.suggestion_detail, name="suggestion_detail"),
    path("suggestions/<int:suggestion_id>/dismiss/", v.suggestion_dismiss, name="suggestion_dismiss"),
    path("groups/<int:group_id>/", v.group_detail, name="group_detail"),
    path("groups/<int:group_id>/accept/", v.group_accept, name="group_accept"),
    path("groups/<int:group_id>/decline/", v.group_decline, name="group_decline"),
    path("groups/<int:group_id>/leave/", v.group_leave, name="group_leave"),
    path("groups/<int:group_id>/add/", v.group_add, name="group_add"),
    path("groups/<int:group_id>/remove/<int:member_id>/", v.group_remove, name="group_remove"),
    path("groups/<int:group_id>/health/", v.group_health, name="group_health"),
    path("groups/<int:group_id>/measure/", v.group_measure, name="group_measure"),
]
