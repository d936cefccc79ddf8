"""Regenerate src/switchyard/actions/aws/index.json from the installed botocore.

Run after upgrading boto3/botocore:

    uv run python scripts/aws_index.py          # rewrite the index
    uv run python scripts/aws_index.py --check  # exit 1 if it is out of date

The index lists every operation of every service botocore describes (one
`aws.<service>.<operation>` action each); see `switchyard.actions.aws._catalog`.
"""

from __future__ import annotations

import argparse
import json
import sys

from switchyard.actions.aws._catalog import INDEX_PATH, build_index, dumps_index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    args = parser.parse_args(argv)
    index = build_index()
    text = dumps_index(index)
    assert json.loads(text) == index
    count = sum(len(s["operations"]) for s in index["services"].values())
    if args.check:
        current = INDEX_PATH.read_text(encoding="utf-8") if INDEX_PATH.exists() else ""
        if current != text:
            print(f"{INDEX_PATH} is out of date: run `uv run python scripts/aws_index.py`")
            return 1
        print(f"{INDEX_PATH} is up to date ({len(index['services'])} services, {count} operations)")
        return 0
    INDEX_PATH.write_text(text, encoding="utf-8")
    print(
        f"wrote {INDEX_PATH}: botocore {index['botocore']}, "
        f"{len(index['services'])} services, {count} operations"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
