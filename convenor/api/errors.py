"""Every API error in one JSON shape::

    {"error": {"code": "not_found", "message": "No such member", "fields": {}}}

``code`` is a stable :class:`~convenor.core.errors.ErrorCode`; ``fields`` maps a field
name to its messages (empty when the error is not about a field). docs/api.md lists the
codes, and a test holds every error response to this shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from convenor.core.errors import ApplicationError, ErrorCode

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

# Where ninja says a bad value came from; the first element of a pydantic error's loc.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})
# The name every endpoint gives its body argument; dropped from field names.
BODY_PARAM = "payload"

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.TOO_LARGE,
    422: ErrorCode.VALIDATION,
    429: ErrorCode.RATE_LIMITED,
}


def error_body(code: ErrorCode, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return ApplicationError(code, message, fields=fields).as_dict()


def error_response(
    code: ErrorCode, message: str, fields: dict[str, list[str]] | None = None, *, status: int | None = None
) -> JsonResponse:
    err = ApplicationError(code, message, fields=fields)
    return JsonResponse(err.as_dict(), status=status or err.status)


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "payload", "name")`` -> ``"name"``; ``("query", "page_size")`` -> ``"page_size"``;
    ``("body", "payload", "interests", 2)`` -> ``"interests.2"``. A whole missing body is ``"body"``."""
    parts = [str(p) for p in loc]
    source = parts[0] if parts and parts[0] in _SOURCES else ""
    if source:
        parts = parts[1:]
    if source == "body" and parts and parts[0] == BODY_PARAM:
        parts = parts[1:]
    return ".".join(parts) or source or "request"


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        message = str(err.get("msg", "Not valid"))
        # pydantic prefixes messages from our own validators with "Value error, ".
        message = message.removeprefix("Value error, ")
        fields.setdefault(field_name(tuple(err.get("loc", ()))), []).append(message)
    return fields


@contextmanager
def fields_renamed(**names: str) -> Iterator[None]:
    """Services name a field after their argument (``parent``); the API names it after the
    request's field (``parent_id``). Renames the fields of an ApplicationError raised inside."""
    try:
        yield
    except ApplicationError as err:
        err.fields = {names.get(k, k): v for k, v in err.fields.items()}
        raise


def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(ErrorCode.VALIDATION, "Some fields are not valid", validation_fields(exc.errors))


def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        ErrorCode.NOT_AUTHENTICATED,
        "Send a valid API token in the Authorization header: Bearer <token>",
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    return error_response(code, str(exc), status=exc.status_code)


def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(ErrorCode.NOT_FOUND, "Not found")


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(ErrorCode.TOO_LARGE, "The request body is too large")


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Log the traceback for the operator; never send it to the client, even with DEBUG on.
    logger.error("Unexpected error in %s %s", request.method, request.path, exc_info=exc)
    return error_response(ErrorCode.INTERNAL, "Something went wrong on our side; it has been logged")


def register_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (``{"detail": ...}``) with ours."""
    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (ApplicationError, _application_error),
        (ValidationError, _validation_error),
        (AuthenticationError, _authentication_error),
        (AuthorizationError, _http_error),
        (HttpError, _http_error),
        (Http404, _http404),
        (RequestDataTooBig, _too_big),
        (Exception, _unexpected),
    ]
    for exc_class, handler in handlers:
        # ninja types a handler's argument as "the exception or its class"; ours get instances.
        api.add_exception_handler(exc_class, handler)


def json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ninja answers a wrong method with a plain-text 405 before any handler runs; give it our shape."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            json = error_response(ErrorCode.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here; use {allowed}")
            json["Allow"] = allowed
            return json
        return response

    return wrapped


def unknown_path(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any path under /api/v1/ that no endpoint serves."""
    return error_response(ErrorCode.NOT_FOUND, f"There is no API endpoint at {request.path}")


def api_root(request: HttpRequest) -> HttpResponse:
    """/api/v1/ itself serves nothing; point at the description of what it does serve."""
    return error_response(ErrorCode.NOT_FOUND, f"Nothing here; the endpoints are listed in {request.path}openapi.json")
