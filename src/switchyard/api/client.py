"""A small HTTP client of the API for the CLI's server mode (`--server URL`).

Where the server and token come from, first found wins:

1. `--server` / `SWITCHYARD_URL` and `--token` / `SWITCHYARD_TOKEN`;
2. the files `switchyard up` writes in the data directory: `server-url`
   (while it runs) and `admin-token` (a generated admin token), used only
   together.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ApiClient", "ApiClientError", "server_from_data_dir"]

SERVER_URL_FILE = "server-url"
ADMIN_TOKEN_FILE = "admin-token"


class ApiClientError(Exception):
    """An error answer (or no answer) from the server.

    Attributes:
        status: The HTTP status (0 when the server could not be reached).
        type: The error type of the API's error body (`NotFound`, ...).
        problems: Located problems, `[{location, message, ...}]`.
    """

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "",
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.problems = problems or []


def server_from_data_dir(
    server: str | None, token: str | None, data_dir: Path | None
) -> tuple[str | None, str | None]:
    """The server URL and token: explicit values (or their variables), else `up`'s files.

    The data directory's admin token is only sent to the server named in the
    same directory: never to a server given on the command line.
    """
    server = server or os.environ.get("SWITCHYARD_URL") or None
    token = token or os.environ.get("SWITCHYARD_TOKEN") or None
    if server is None and data_dir is not None:
        url_file, token_file = data_dir / SERVER_URL_FILE, data_dir / ADMIN_TOKEN_FILE
        if url_file.is_file():
            server = url_file.read_text().strip() or None
            if server is not None and token is None and token_file.is_file():
                token = token_file.read_text().strip() or None
    return server, token


class ApiClient:
    """Calls `/api/v1/...` of one server with a bearer token (synchronous, for the CLI)."""

    def __init__(self, server: str, token: str | None, *, timeout: float = 30.0) -> None:
        self.server = server.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["User-Agent"] = "switchyard-cli"
        self._http = httpx.Client(base_url=self.server, headers=headers, timeout=timeout)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: str | bytes | None = None,
        content_type: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send a request to `/api/v1{path}`; the decoded JSON answer (None for 204).

        Raises:
            ApiClientError: an error answer, or the server cannot be reached.
        """
        headers = {"Content-Type": content_type} if content_type else None
        try:
            response = self._http.request(
                method,
                f"/api/v1{path}",
                json=json,
                content=content,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise ApiClientError(0, f"cannot reach {self.server}: {exc}") from None
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            raise ApiClientError(
                response.status_code,
                str(error.get("message", "")),
                str(error.get("type", "")),
                list(error.get("problems") or []),
            )
        raise ApiClientError(
            response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def items(self, path: str, **params: Any) -> list[Any]:
        """Every item of a paginated list, following `next_cursor`."""
        out: list[Any] = []
        cursor = None
        while True:
            page = self.request("GET", path, params={**params, "limit": 500, "cursor": cursor})
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out
