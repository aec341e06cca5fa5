"""The errors the SDK raises: one base class, subclasses for the cases a caller may want to catch."""

from __future__ import annotations

from typing import Optional


class AidosError(Exception):
    """A request the server refused (``status`` and ``code`` set) or could not be made at all.

    ``code`` is the server's error code: MLflow's (``RESOURCE_DOES_NOT_EXIST``, ``INVALID_PARAMETER_VALUE``…)
    on the MLflow routes, AI-DOS's (``NOT_FOUND``, ``INVALID_ARGUMENT``…) on the native ones.
    """

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class AuthenticationError(AidosError):
    """No token was found, or the server refused it (HTTP 401 or 403)."""


class NotFoundError(AidosError):
    """The run, experiment, model, dataset or file does not exist (HTTP 404)."""


class ServerUnreachableError(AidosError):
    """The server could not be reached, or kept failing (5xx), after a few tries."""
