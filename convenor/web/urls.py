from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path

from convenor.web import views

app_name = "web"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html",
            redirect_authenticated_user=True,
            # LoginView sets site_name to the request's host; keep ours.
            extra_context={"site_name": settings.SITE_NAME},
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("people/", views.member_list, name="member_list"),
    path("people/new/", views.member_create, name="member_create"),
    path("people/merge-suggestions/", views.merge_suggestions, name="merge_suggestions"),
    path(
        "people/merge-suggestions/refresh/",
        views.merge_suggestions_refresh,
        name="merge_suggestions_refresh",
    ),
    path(
        "people/merge-suggestions/<int:suggestion_id>/decide/",
        views.merge_suggestion_decide,
        name="merge_suggestion_decide",
    ),
    path("people/<int:member_id>/", views.member_detail, name="member_detail"),
    path("people/<int:member_id>/edit/", views.member_edit, name="member_edit"),
    path("people/<int:member_id>/affiliations/new/", views.affiliation_add, name="affiliation_add"),
    path("people/<int:member_id>/identities/new/", views.identity_add, name="identity_add"),
    path(
        "people/<int:member_id>/relationships/new/",
        views.member_relationship_add,
        name="member_relationship_add",
    ),
    path("people/<int:member_id>/merge/", views.member_merge, name="member_merge"),
    path("affiliations/<int:affiliation_id>/end/", views.affiliation_end, name="affiliation_end"),
    path("relationships/<int:rel_id>/delete/", views.relationship_delete, name="relationship_delete"),
    path("organizations/", views.org_list, name="org_list"),
    path("organizations/new/", views.org_create, name="org_create"),
    path("organizations/<int:org_id>/", views.org_detail, name="org_detail"),
    path("organizations/<int:org_id>/edit/", views.org_edit, name="org_edit"),
    path(
        "organizations/<int:org_id>/relationships/new/",
        views.org_relationship_add,
        name="org_relationship_add",
    ),
]
