"""A YAML loader for untrusted definitions.

YAML 1.2 core schema (so `on:`, `yes`, `2024-01-01` stay what they look like),
no tags beyond the standard scalar/collection ones, duplicate keys refused,
and the node graph measured *before* construction: nesting depth, node count
after alias expansion (billion laughs) and recursive aliases all end in a
`YamlLimitError` in time linear in the document, never a hang.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml is much faster and caps nesting at 1000 while scanning
    from yaml import CParser as _Parser
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


MAX_DEPTH = 100
MAX_NODES = 200_000

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
ALLOWED_TAGS = frozenset({_STR, _SEQ, _MAP, _NULL, _BOOL, _INT, _FLOAT, _MERGE})


class YamlLimitError(ValueError):
    """The document breaks a limit or a rule of this loader (message says which)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


def _mark(node: Node) -> tuple[int | None, int | None]:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema, plus `<<` merge keys."""


_Resolver.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_MERGE, r"^(?:<<)$", "<"),
):
    _Resolver.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


class _Constructor(yaml.constructor.SafeConstructor):
    yaml_constructors: dict[Any, Any] = {}

    def construct_yaml_int(self, node: ScalarNode) -> int:  # type: ignore[override]
        value = str(self.construct_scalar(node))
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value, 10)

    def construct_yaml_float(self, node: ScalarNode) -> float:  # type: ignore[override]
        value = str(self.construct_scalar(node)).lower()
        if value.endswith(".inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        if value == ".nan":
            return float("nan")
        return float(value)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                line, column = _mark(key_node)
                raise YamlLimitError("a mapping key must be a scalar", line, column) from None
            if duplicate:
                line, column = _mark(key_node)
                first, _ = _mark(seen[key])
                raise YamlLimitError(f"duplicate key {key!r} (first at line {first})", line, column)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


for _tag, _method in (
    (_NULL, _Constructor.construct_yaml_null),
    (_BOOL, _Constructor.construct_yaml_bool),
    (_INT, _Constructor.construct_yaml_int),
    (_FLOAT, _Constructor.construct_yaml_float),
    (_STR, _Constructor.construct_yaml_str),
    (_SEQ, _Constructor.construct_yaml_seq),
    (_MAP, _Constructor.construct_yaml_map),
):
    _Constructor.add_constructor(_tag, _method)


class _Loader(_Parser, _Constructor, _Resolver):  # type: ignore[misc, valid-type]
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


def check_node_graph(root: Node, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Refuse deep, huge-after-expansion, recursive or non-standard-tagged node graphs.

    Sizes are memoized per node, so a billion-laughs document costs one visit
    per distinct node.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    # (node, depth, expanded?) ; a node is pushed once to expand, once to total up.
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            if total > max_nodes:
                raise YamlLimitError(
                    f"the document has more than {max_nodes} values once aliases are "
                    "expanded (alias bomb?)",
                    *_mark(node),
                )
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlLimitError("recursive alias: a node contains itself", *_mark(node))
        if node.tag not in ALLOWED_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise YamlLimitError(f"tag {tag!r} is not allowed", *_mark(node))
        if depth > max_depth:
            raise YamlLimitError(f"nesting deeper than {max_depth} levels", *_mark(node))
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) not in size:
                stack.append((child, depth + 1, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def load_yaml(text: str) -> Any:
    """Load one YAML document safely (see the module docstring).

    Raises:
        yaml.YAMLError: the text is not YAML.
        YamlLimitError: the document breaks a limit or a rule.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_node_graph(node)
        try:
            return loader.construct_document(node)
        except ConstructorError as exc:
            mark = exc.problem_mark
            raise YamlLimitError(
                str(exc.problem or exc),
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            ) from None
    finally:
        loader.dispose()
