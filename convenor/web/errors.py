"""Turns an ApplicationError escaping a web view into the page a person expects.

This is the one place where the web pages map error codes: NOT_FOUND answers the 404 page,
PERMISSION_DENIED the 403 page, NOT_AUTHENTICATED sends to the login page, and anything
else shows its message with the code's status. Views that can fix an error on the form
(validation, duplicates) catch it themselves; this is for everything else.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from convenor.core.errors import ApplicationError, ErrorCode

# The namespaces whose views are pages (the API and file downloads answer errors their own way).
PAGE_NAMESPACES = frozenset({"web", "events", "listening", "feedback", "hotgroups"})


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    template = {404: "404.html", 403: "403.html"}.get(status, "web/error.html")
    return render(request, template, {"message": message, "status": status}, status=status)


class ApplicationErrorMiddleware:
    """Maps ApplicationError raised by the pages (the PAGE_NAMESPACES) onto responses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        match = request.resolver_match
        # The JSON API answers its own errors in its own shape; leave them alone. The event
        # pages live under /events/ (namespace "events") beside the calendar files.
        if match is None or match.namespace not in PAGE_NAMESPACES:
            return None
        if exception.code == ErrorCode.NOT_AUTHENTICATED:
            return redirect_to_login(request.get_full_path())
        return error_page(request, exception.status, exception.message)
