"""Build the committed index of AWS operations (`index.json`) from botocore.

The index lets the aws package list and look up its ~20 000 actions without
loading botocore's service models (seconds of CPU, hundreds of MB): for each
service its title and, per operation, boto3's method name, the API's
operation name and a one-sentence summary. `scripts/aws_index.py` writes it;
a test checks that it equals what the installed botocore describes, so a
botocore upgrade without a regenerated index fails the suite.

Format (JSON, one operation per line so that upgrades diff readably):

    {"botocore": "1.44.8", "services": {
    "ec2": {"title": "EC2", "name": "Amazon Elastic Compute Cloud", "operations": [
    ["describe_instances", "DescribeInstances", "Describes the specified instances ..."],
    ...]},
    ...}}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["INDEX_PATH", "SUMMARY_CHARS", "build_index", "dumps_index"]

INDEX_PATH = Path(__file__).with_name("index.json")
#: Longest operation summary kept in the index (characters).
SUMMARY_CHARS = 200


def build_index() -> dict[str, Any]:
    """The index of every operation of every service the installed botocore describes."""
    import botocore
    from botocore import xform_name

    from switchyard.actions.aws._model import clean_doc, data_loader, service_description

    services: dict[str, Any] = {}
    for service in sorted(data_loader().list_available_services("service-2")):
        description = service_description(service)
        meta = description["metadata"]
        operations = []
        for name, op in sorted(description["operations"].items()):
            summary = clean_doc(op.get("documentation"), SUMMARY_CHARS)
            if op.get("deprecated"):
                summary = f"(Deprecated) {summary}".strip()
            operations.append([xform_name(name), name, summary])
        operations.sort()
        services[service] = {
            "title": meta.get("serviceId") or meta.get("serviceFullName") or service,
            "name": meta.get("serviceFullName") or meta.get("serviceId") or service,
            "operations": operations,
        }
    return {"botocore": botocore.__version__, "services": services}


def dumps_index(index: dict[str, Any]) -> str:
    """The index as JSON text, one operation per line."""
    lines = [f'{{"botocore": {json.dumps(index["botocore"])}, "services": {{']
    names = list(index["services"])
    for i, service in enumerate(names):
        entry = index["services"][service]
        lines.append(
            f"{json.dumps(service)}: {{"
            f'"title": {json.dumps(entry["title"])}, '
            f'"name": {json.dumps(entry["name"])}, "operations": ['
        )
        ops = entry["operations"]
        for j, op in enumerate(ops):
            lines.append(json.dumps(op, ensure_ascii=False) + ("," if j < len(ops) - 1 else ""))
        lines.append("]}" + ("," if i < len(names) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines) + "\n"
