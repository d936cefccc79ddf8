"""The JSON Schema of the definition format, generated from the model."""

from __future__ import annotations

import json
from typing import Any

from switchyard.definition.model import Workflow

SCHEMA_ID = "https://switchyard.dev/schema/workflow-v1.json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def workflow_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a workflow document, by field alias."""
    body = Workflow.model_json_schema(by_alias=True, mode="validation")
    body.pop("title", None)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Switchyard workflow definition (version 1)",
        **body,
    }


def workflow_json_schema_text() -> str:
    """The schema as the text of `schema/workflow.schema.json` (stable, ends with a newline)."""
    return json.dumps(workflow_json_schema(), indent=2, ensure_ascii=False) + "\n"
