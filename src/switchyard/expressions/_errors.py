"""Error types raised by the expression engine."""

from __future__ import annotations


class ExpressionError(Exception):
    """An expression or template failed to parse or to evaluate.

    Attributes:
        type: "ExpressionError" (the error type recorded on the failed step).
        message: the JavaScript-side reason,
            e.g. "TypeError: cannot read property 'y' of undefined".
        step: id of the step being evaluated, if known.
        field: dotted path of the field, e.g. "with.headers.X" or "with.items[2]".
        expression: the expression source (without `{{ }}`).
        syntax: True when the expression did not parse (reads "is invalid", not "failed").
    """

    type = "ExpressionError"

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        field: str | None = None,
        expression: str | None = None,
        syntax: bool = False,
    ) -> None:
        self.message = message
        self.syntax = syntax
        self.step = step
        self.field = field
        self.expression = expression
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.step is not None:
            where.append(f"step '{self.step}'")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        what = f"expression `{_clip(self.expression)}` " if self.expression is not None else ""
        head = f"{prefix}: " if prefix else ""
        if what:
            verb = "is invalid" if self.syntax else "failed"
            return f"{head}{what}{verb}: {self.message}"
        return f"{head}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """The `{type, message, details}` shape of a step error."""
        return {
            "type": self.type,
            "message": str(self),
            "details": {"step": self.step, "field": self.field, "expression": self.expression},
        }


class ScriptError(ExpressionError):
    """A `script` step threw, or hit its time or memory limit."""

    type = "ScriptError"

    def __str__(self) -> str:
        head = f"step '{self.step}': " if self.step is not None else ""
        return f"{head}script failed: {self.message}"


def _clip(expr: str | None, limit: int = 200) -> str:
    s = expr or ""
    return s if len(s) <= limit else s[: limit - 3] + "..."
