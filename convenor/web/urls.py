from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path

from convenor.web import views, views_charter, views_inbox, views_spaces

app_name = "web"

urlpatterns = [
    # Tried in order: the pages read most come first, so they resolve after a few tries
    # rather than fifty (no pattern here overlaps another: tests/test_urls.py).
    path("healthz", views.healthz, name="healthz"),
    path("spaces/<slug:slug>/", views_spaces.space_detail, name="space_detail"),
    path("threads/<int:thread_id>/", views_spaces.thread_detail, name="thread_detail"),
    path("search/", views_inbox.search, name="search"),
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
    path("organizations/<int:org_id>/space/", views_spaces.org_space_create, name="org_space_create"),
    # spaces and conversations
    path("spaces/", views_spaces.space_list, name="space_list"),
    path("spaces/<slug:slug>/new/", views_spaces.thread_create, name="thread_create"),
    path("spaces/<slug:slug>/join/", views_spaces.space_join, name="space_join"),
    path("spaces/<slug:slug>/leave/", views_spaces.space_leave, name="space_leave"),
    path("spaces/<slug:slug>/follow/", views_spaces.space_follow, name="space_follow"),
    path("spaces/<slug:slug>/invite/", views_spaces.space_invite, name="space_invite"),
    path("spaces/<slug:slug>/members/<int:member_id>/role/", views_spaces.space_member_role, name="space_member_role"),
    path(
        "spaces/<slug:slug>/members/<int:member_id>/remove/",
        views_spaces.space_member_remove,
        name="space_member_remove",
    ),
    path("threads/<int:thread_id>/moderate/", views_spaces.thread_moderate, name="thread_moderate"),
    path("threads/<int:thread_id>/follow/", views_spaces.thread_follow, name="thread_follow"),
    path("posts/<int:post_id>/", views_spaces.post_link, name="post_link"),
    path("posts/<int:post_id>/edit/", views_spaces.post_edit, name="post_edit"),
    path("posts/<int:post_id>/history/", views_spaces.post_history, name="post_history"),
    path("posts/<int:post_id>/react/", views_spaces.post_react, name="post_react"),
    path("posts/<int:post_id>/accept/", views_spaces.post_accept, name="post_accept"),
    path("notifications/", views_inbox.notifications, name="notifications"),
    path("notifications/read-all/", views_inbox.notifications_read_all, name="notifications_read_all"),
    path("notifications/settings/", views_inbox.notification_settings, name="notification_settings"),
    path("notifications/<int:note_id>/", views_inbox.notification_open, name="notification_open"),
    path("unsubscribe/<str:token>/", views_inbox.unsubscribe, name="unsubscribe"),
    path("queues/", views_inbox.queues, name="queues"),
    path("moderation/", views_charter.moderation_queue, name="moderation_queue"),
    path("moderation/report/", views_charter.leakage_report, name="leakage_report"),
    path("moderation/posts/<int:post_id>/decide/", views_charter.moderation_decide, name="moderation_decide"),
    path("posts/<int:post_id>/move/", views_charter.post_move, name="post_move"),
    path("posts/<int:post_id>/review/", views_charter.post_review, name="post_review"),
    path("spaces/<slug:slug>/threshold/", views_charter.space_threshold, name="space_threshold"),
]
