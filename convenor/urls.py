from django.contrib import admin
from django.urls import include, path

from convenor.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("events/", include("convenor.events.urls", namespace="events")),
    path("", include("convenor.web.urls")),
]
