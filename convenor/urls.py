from django.contrib import admin
from django.urls import include, path

from convenor.api.api import api

urlpatterns = [
    # First: the pages read most are there, and none of its patterns starts with a prefix
    # below (tests/test_urls.py), so the order changes nothing but the time to resolve.
    path("", include("convenor.web.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("events/", include("convenor.events.urls", namespace="events")),
    path("map/", include("convenor.graph.urls", namespace="map")),
    path("listening/", include("convenor.listening.urls", namespace="listening")),
    path("ideas/", include("convenor.feedback.urls", namespace="feedback")),
    path("hotgroups/", include("convenor.hotgroups.urls", namespace="hotgroups")),
]
