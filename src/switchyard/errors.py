"""Typed step errors shared by the definition, expression and engine packages.

An attempt fails with `{type, message, details}` (spec, "Errors, retries,
timeouts"). The types below are the ones the core uses; actions may raise
any of them through `StepFailure`.
"""

from __future__ import annotations

from typing import Any

HTTP_CLIENT_ERROR = "HttpClientError"
HTTP_SERVER_ERROR = "HttpServerError"
TIMEOUT = "Timeout"
EXPRESSION_ERROR = "ExpressionError"
VALIDATION_ERROR = "ValidationError"
PERMISSION_DENIED = "PermissionDenied"
CONNECTION_NOT_FOUND = "ConnectionNotFound"
SCRIPT_ERROR = "ScriptError"
WAIT_TIMEOUT = "WaitTimeout"
CHILD_FAILED = "ChildFailed"
ACTION_ERROR = "ActionError"
CANCELLED = "Cancelled"

#: Error types that are never retried, whatever the retry policy says.
NEVER_RETRIED = frozenset(
    {EXPRESSION_ERROR, VALIDATION_ERROR, PERMISSION_DENIED, CONNECTION_NOT_FOUND}
)


class StepFailure(Exception):
    """An attempt failed with a typed error.

    Args:
        type: one of the error type names above (or an action's own).
        message: human-readable message.
        details: JSON-compatible extra data (status code, response body, ...).
        retryable: False forces no retry; None lets the type and policy decide.
        retry_after: seconds the remote asked us to wait before retrying.
    """

    def __init__(
        self,
        type: str,
        message: str,
        details: Any = None,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.details = details
        self.retryable = retryable
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "details": self.details}
