"""Atlassian Document Format (ADF): plain text to a document, and back.

Jira Cloud's REST v3 takes rich text (descriptions, comments) as ADF
documents only: `{"type": "doc", "version": 1, "content": [blocks]}`.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["adf_to_text", "is_adf_doc", "text_to_adf"]

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BLOCKS = frozenset(
    {
        "paragraph",
        "heading",
        "blockquote",
        "codeBlock",
        "listItem",
        "bulletList",
        "orderedList",
        "panel",
        "rule",
        "table",
        "tableRow",
        "tableCell",
        "tableHeader",
        "mediaSingle",
        "expand",
    }
)


def text_to_adf(text: str) -> dict[str, Any]:
    """A document with one paragraph per blank-line-separated block of `text`.

    Single line breaks inside a block become `hardBreak` nodes; empty text
    nodes (which Jira rejects) are never produced.
    """
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    paragraphs: list[dict[str, Any]] = []
    for block in _BLANK_LINE.split(normalized):
        block = block.strip("\n")
        if not block.strip():
            continue
        nodes: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": paragraphs}


def is_adf_doc(value: Any) -> bool:
    """True for a mapping shaped like an ADF document's root."""
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def adf_to_text(node: Any) -> str:
    """The plain text of an ADF document (blocks separated by blank lines)."""
    if isinstance(node, str):  # Jira Data Center / REST v2 bodies are plain text
        return node
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status", "date", "inlineCard"):
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    children = node.get("content") or []
    if kind == "doc" or any(isinstance(c, dict) and c.get("type") in _BLOCKS for c in children):
        return "\n\n".join(t for t in (adf_to_text(c) for c in children) if t)
    return "".join(adf_to_text(c) for c in children)
