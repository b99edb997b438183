"""One error type for the whole application, with stable codes.

Services raise :class:`ApplicationError`; the web pages show its message, the API
answers it in one JSON shape (see docs/api.md), the CLI prints it to stderr.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "validation_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    MERGE_SELF = "merge_self"
    BAD_FILE = "bad_file"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    FRAME_MISMATCH = "frame_mismatch"
    INTERNAL = "internal_error"


_STATUS = {
    ErrorCode.VALIDATION: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.CONFLICT: 409,
    ErrorCode.DUPLICATE: 409,
    ErrorCode.MERGE_SELF: 422,
    ErrorCode.BAD_FILE: 422,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.FRAME_MISMATCH: 409,
    ErrorCode.INTERNAL: 500,
}


class ApplicationError(Exception):
    """An error the user can act on. ``fields`` maps a field name to its messages."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    @property
    def status(self) -> int:
        return _STATUS[self.code]

    def as_dict(self) -> dict[str, object]:
        return {"error": {"code": str(self.code), "message": self.message, "fields": self.fields}}


def not_found(what: str = "Not found") -> ApplicationError:
    return ApplicationError(ErrorCode.NOT_FOUND, what)


def invalid(message: str, **fields: str) -> ApplicationError:
    """A validation error; keyword arguments name the fields at fault."""
    return ApplicationError(ErrorCode.VALIDATION, message, fields={k: [v] for k, v in fields.items()})
