"""The API's error shape: `{"error": {"type", "message", "problems": [{location, message}]}}`.

Every failure leaves through `ApiError` or one of the handlers below, so bad
input is a 4xx with a located message and never a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["ApiError", "error_body", "install_error_handlers"]

_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationError",
    429: "TooManyRequests",
}


class ApiError(Exception):
    """An answer other than success: status, error type, message, located problems."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        problems: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type or _TYPES.get(status, "Error")
        self.message = message
        self.problems = problems or []
        self.headers = headers


def error_body(
    type: str, message: str, problems: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"error": {"type": type, "message": message, "problems": problems or []}}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.type, exc.message, exc.problems), exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": _location(e.get("loc", ())), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        text = "; ".join(f"{p['location']}: {p['message']}" for p in problems[:5])
        return JSONResponse(
            error_body("ValidationError", f"invalid request: {text}", problems), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        return JSONResponse(
            error_body(_TYPES.get(status, "Error"), str(exc.detail)),
            status,
            headers=getattr(exc, "headers", None),
        )
