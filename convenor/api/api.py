"""The JSON API, mounted at /api/v1/ (see docs/api.md).

Every operation needs ``Authorization: Bearer <token>``; every error answers in one shape
(convenor/api/errors.py). The OpenAPI 3.1 document is at /api/v1/openapi.json. There is no
interactive docs page: ninja's Swagger UI loads its script from a CDN, and Convenor runs
offline.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI

from . import (
    charter,
    events,
    feedback,
    graph,
    hotgroups,
    listening,
    me,
    members,
    notifications,
    organizations,
    relationships,
    search,
    spaces,
    threads,
)
from .auth import BearerToken
from .errors import api_root, json_method_not_allowed, register_handlers, unknown_path


class ConvenorAPI(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for url in urls:
            if not isinstance(url, URLPattern):
                continue
            if url.name == "api-root":
                # Ninja's root view raises a bare Http404 outside its handlers (HTML); the
                # name stays, as ninja reverses it to build the OpenAPI paths.
                url.callback = api_root
            else:
                url.callback = json_method_not_allowed(url.callback)
        # Last, so it only catches paths no endpoint serves (instead of Django's HTML 404).
        urls.append(re_path(r"^(?P<rest>.*)$", unknown_path))
        return urls


api = ConvenorAPI(
    title="Convenor API",
    version="1",
    description="The JSON API of Convenor, a self-hosted business-community platform. See docs/api.md.",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url=None,
)
register_handlers(api)
api.add_router("", me.router)
api.add_router("", members.router)
api.add_router("", organizations.router)
api.add_router("", relationships.router)
api.add_router("", spaces.router)
api.add_router("", threads.router)
api.add_router("", events.router)
api.add_router("", search.router)
api.add_router("", notifications.router)
api.add_router("", charter.router)
api.add_router("", graph.router)
api.add_router("", listening.router)
api.add_router("", feedback.router)
api.add_router("", hotgroups.router)
