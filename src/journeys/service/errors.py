"""The one JSON error shape, `{"error": {"code": ..., "message": ...}}`, for every error the API
returns: JourneysError subclasses, request validation, unknown routes, auth, size and rate limits."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from journeys.errors import JourneysError

log = logging.getLogger("journeys.service")


class ApiError(JourneysError):
    """An error that carries its HTTP status (and optional details for the client)."""

    status = 400

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details


class Unauthorized(ApiError):
    code, status = "unauthorized", 401


class Forbidden(ApiError):
    code, status = "forbidden", 403


class TooLarge(ApiError):
    code, status = "body_too_large", 413


class RateLimited(ApiError):
    code, status = "rate_limited", 429


class InvalidEvents(ApiError):
    code, status = "invalid_events", 422


# status for errors raised by the service layer, by their code
STATUS_BY_CODE = {"not_found": 404, "data_error": 422, "config_error": 400, "missing_extra": 501}
CODE_BY_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  405: "method_not_allowed", 413: "body_too_large", 422: "invalid_request",
                  429: "rate_limited", 500: "internal_error"}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    err: dict = {"code": code, "message": message}
    if details:
        err["details"] = details
    return {"error": err}


def error_bytes(code: str, message: str) -> bytes:
    return json.dumps(error_body(code, message)).encode()


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _journeys_error(request: Request, exc: JourneysError) -> JSONResponse:
    status = getattr(exc, "status", None) or STATUS_BY_CODE.get(exc.code, 400)
    headers = {"Retry-After": "1"} if status == 429 else {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, exc.code, " ".join(str(exc).split()), getattr(exc, "details", None), headers)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()))
        problems.append(f"{where}: {e.get('msg', 'invalid')}")
    return error_response(422, "invalid_request", "; ".join(problems) or "invalid request",
                          {"errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]})


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = CODE_BY_STATUS.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(JourneysError, _journeys_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
