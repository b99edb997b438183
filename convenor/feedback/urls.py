"""Feedback's pages, mounted at /ideas/ (their views live in the web app)."""

from django.urls import path

from convenor.web import views_feedback

app_name = "feedback"

urlpatterns = [
    path("", views_feedback.board_list, name="board_list"),
    path("roadmap/", views_feedback.roadmap, name="roadmap"),
    path("demand/", views_feedback.demand, name="demand"),
    path("changelog/", views_feedback.changelog, name="changelog"),
    path("changelog/rss.xml", views_feedback.changelog_feed, name="changelog_feed"),
    path("from-post/<int:post_id>/", views_feedback.from_post, name="from_post"),
    path("from-outside-post/<int:outside_post_id>/", views_feedback.from_outside_post, name="from_outside_post"),
    path("b/<slug:slug>/", views_feedback.board_detail, name="board_detail"),
    path("<int:idea_id>/", views_feedback.idea_detail, name="idea_detail"),
    path("<int:idea_id>/vote/", views_feedback.idea_vote, name="idea_vote"),
    path("<int:idea_id>/unvote/", views_feedback.idea_unvote, name="idea_unvote"),
    path("<int:idea_id>/follow/", views_feedback.idea_follow, name="idea_follow"),
    path("<int:idea_id>/comment/", views_feedback.idea_comment, name="idea_comment"),
    path("<int:idea_id>/status/", views_feedback.idea_status, name="idea_status"),
    path("<int:idea_id>/merge/", views_feedback.idea_merge, name="idea_merge"),
]
