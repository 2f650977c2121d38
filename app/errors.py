"""Domain errors: values the user can act on. Pure (no Flask), shared by every layer.

The web shows them as flashes, the API as the BlueKing envelope with `code`,
the CLI as a red line.
"""
from __future__ import annotations


class ItsmError(Exception):
    """Base of every error a user or client is meant to read."""

    code = 3900004
    http_status = 400

    def __init__(self, message: str, *, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class OperationRefused(ItsmError):
    """The operation is not allowed in the ticket's or step's current state."""

    code = 3900004
    http_status = 409


class PermissionDenied(ItsmError):
    """The user has no right to do this."""

    code = 3900004
    http_status = 403


class LoginThrottled(ItsmError):
    """Too many failed logins for this account or from this address: try again later."""

    code = 3900429
    http_status = 429


class ValidationFailed(ItsmError):
    """Input values are wrong; `errors` maps field keys to messages."""

    code = 3900005
    http_status = 400


class CreateFailed(ItsmError):
    """A ticket could not be created (bad service, bad first-node values)."""

    code = 3900003
    http_status = 400


class NotFound(ItsmError):
    code = 3900404
    http_status = 404


class TicketNotFound(NotFound):
    code = 3900022

    def __init__(self, message: str = "没有找到对应的单据", **kw):
        super().__init__(message, **kw)


class ServiceNotFound(NotFound):
    code = 3900042

    def __init__(self, message: str = "服务不存在，请联系管理员！", **kw):
        super().__init__(message, **kw)


class AuthenticationFailed(ItsmError):
    """API credentials missing or wrong (BlueKing clients get it in the envelope, HTTP 200)."""

    code = 3900401
    http_status = 401


class ServiceExists(ItsmError):
    """A service with that name already exists (upstream's SERVICE_INSERT_ERROR: blueking-paas relies on the code)."""

    code = 3900035
    http_status = 409
