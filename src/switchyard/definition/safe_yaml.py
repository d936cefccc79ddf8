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
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml is much faster and caps nesting at 1000 while scanning
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
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


_Constructor.yaml_constructors = {}  # only the core schema: no timestamp, binary, set...
for _tag, _method in (
    (_NULL, _Constructor.construct_yaml_null),
    (_BOOL, _Constructor.construct_yaml_bool),
    (_INT, _Constructor.construct_yaml_int),
    (_FLOAT, _Constructor.construct_yaml_float),
    (_STR, _Constructor.construct_yaml_str),
    (_SEQ, _Constructor.construct_yaml_seq),
    (_MAP, _Constructor.construct_yaml_map),
):
    _Constructor.add_constructor(_tag, _method)  # type: ignore[type-var]


class _Loader(_Parser, _Constructor, _Resolver):  # type: ignore[misc, valid-type]
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


def check_node_graph(root: Node, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Refuse deep, huge-after-expansion, recursive or non-standard-tagged node graphs.

    Size and height are memoized per node, so a billion-laughs document costs
    one visit per distinct node, and nesting built by aliases counts too.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    # (node, expanded?) ; a node is pushed once to expand, once to total up.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            if size[key] > max_nodes:
                raise YamlLimitError(
                    f"the document has more than {max_nodes} values once aliases are "
                    "expanded (alias bomb?)",
                    *_mark(node),
                )
            if height[key] > max_depth:
                raise YamlLimitError(f"nesting deeper than {max_depth} levels", *_mark(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlLimitError("recursive alias: a node contains itself", *_mark(node))
        if node.tag not in ALLOWED_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise YamlLimitError(f"tag {tag!r} is not allowed", *_mark(node))
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) not in size:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _compose(loader: _Loader) -> Node | None:
    """Build the node graph of a single document, iteratively, capping nesting.

    PyYAML's composer recurses once per nesting level (libyaml's too, in
    Cython): a deep document would exhaust the stack before any limit applied.
    """
    loader.get_event()  # stream start
    if loader.check_event(StreamEndEvent):
        return None
    loader.get_event()  # document start
    anchors: dict[str, Node] = {}
    stack: list[list[Any]] = []  # [collection node, pending mapping key or None]
    while True:
        event = loader.get_event()
        if isinstance(event, CollectionEndEvent):
            node = stack.pop()[0]  # attached to its parent when it started
            node.end_mark = event.end_mark
        else:
            node = _node_of(loader, event, anchors)
            if stack:
                _attach(stack[-1], node)
            if isinstance(event, CollectionStartEvent):
                stack.append([node, None])
                if len(stack) > MAX_DEPTH:
                    raise YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(node))
                continue
        if not stack:
            root = node
            break
    loader.get_event()  # document end
    if not loader.check_event(StreamEndEvent):
        event = loader.peek_event()
        mark = event.start_mark if event is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise YamlLimitError("expected a single document, found another one", line, column)
    return root


def _node_of(loader: _Loader, event: Any, anchors: dict[str, Node]) -> Node:
    if isinstance(event, AliasEvent):
        if event.anchor not in anchors:
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise YamlLimitError(f"unknown alias *{event.anchor}", line, column)
        return anchors[event.anchor]
    node: Node
    if isinstance(event, ScalarEvent):
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)  # type: ignore[arg-type]
    elif isinstance(event, SequenceStartEvent):
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(SequenceNode, None, event.implicit)
        node = SequenceNode(tag, [], event.start_mark, None, event.flow_style)  # type: ignore[arg-type]
    elif isinstance(event, MappingStartEvent):
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(MappingNode, None, event.implicit)
        node = MappingNode(tag, [], event.start_mark, None, event.flow_style)  # type: ignore[arg-type]
    else:  # pragma: no cover - the parser only emits the events above here
        raise YamlLimitError(f"unexpected {type(event).__name__}")
    if getattr(event, "anchor", None) is not None:
        anchors[event.anchor] = node
    return node


def _attach(entry: list[Any], node: Node) -> None:
    parent = entry[0]
    if isinstance(parent, SequenceNode):
        parent.value.append(node)
    elif entry[1] is None:
        entry[1] = node
    else:
        parent.value.append((entry[1], node))
        entry[1] = None


def load_yaml(text: str) -> Any:
    """Load one YAML document safely (see the module docstring).

    Raises:
        yaml.YAMLError: the text is not YAML.
        YamlLimitError: the document breaks a limit or a rule.
    """
    loader = _Loader(text)
    try:
        node = _compose(loader)
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
