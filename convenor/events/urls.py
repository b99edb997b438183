"""Calendar files and feeds, and the event pages (their views live in the web app)."""

from django.urls import path

from convenor.events import views
from convenor.web import views_events

app_name = "events"

urlpatterns = [
    path("<int:event_id>.ics", views.event_ics, name="event_ics"),
    path("calendar/space/<slug:slug>.ics", views.space_feed, name="space_feed"),
    path("calendar/member/<str:token>.ics", views.member_feed, name="member_feed"),
    # pages
    path("", views_events.event_list, name="event_list"),
    path("new/", views_events.event_create, name="event_create"),
    path("report/", views_events.fit_report, name="fit_report"),
    path("<int:event_id>/", views_events.event_detail, name="event_detail"),
    path("<int:event_id>/edit/", views_events.event_edit, name="event_edit"),
    path("<int:event_id>/cancel/", views_events.event_cancel, name="event_cancel"),
    path("<int:event_id>/register/", views_events.event_register, name="event_register"),
    path("<int:event_id>/registered/", views_events.event_registered, name="event_registered"),
    path("<int:event_id>/unregister/", views_events.registration_cancel, name="registration_cancel"),
    path("<int:event_id>/dashboard/", views_events.event_dashboard, name="event_dashboard"),
    path("<int:event_id>/checkin/", views_events.event_checkin, name="event_checkin"),
    path("<int:event_id>/survey/", views_events.event_survey, name="event_survey"),
    path("<int:event_id>/recurring/", views_events.event_recurring, name="event_recurring"),
    path("<int:event_id>/invite/", views_events.event_invite, name="event_invite"),
    path("<int:event_id>/release/", views_events.event_release, name="event_release"),
    path("series/<int:series_id>/", views_events.series_detail, name="series_detail"),
    path("series/<int:series_id>/extend/", views_events.series_extend, name="series_extend"),
]
