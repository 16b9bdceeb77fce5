"""One exception hierarchy for the core; each class carries its error code and HTTP status,
so each face maps them to responses in exactly one place."""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"
    status = 400
    default_message = "The request could not be completed."
    # Seconds a client should wait before trying again (sent as Retry-After), or None.
    retry_after: int | None = None

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class InvalidInput(AppError):
    code = "invalid"
    status = 400
    default_message = "The request is not valid."


class NotAuthenticated(AppError):
    code = "not_authenticated"
    status = 401
    default_message = "Sign in first."


class PermissionDenied(AppError):
    code = "forbidden"
    status = 403
    default_message = "You are not allowed to do that."


class NotFound(AppError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(AppError):
    code = "conflict"
    status = 409
    default_message = "Someone else changed this first."


class TooLarge(AppError):
    code = "too_large"
    status = 413
    default_message = "The file is too large."


class ServiceUnavailable(AppError):
    """A dependency is throttling or failing after our retries: nothing was changed."""

    code = "unavailable"
    status = 503
    default_message = "The service is busy right now and nothing was changed; try again in a few seconds."
    retry_after = 2
