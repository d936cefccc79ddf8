"""Input models of the generated AWS actions, made from botocore's service models.

Imported on first use of an action's input model (validation, schemas), never
when an action is only looked up: loading a service model takes milliseconds
to a second. Each service is walked once per process; a shape used by many
operations is made once and shared.

How a botocore shape becomes a parameter (the step's `with` takes boto3's
names and types, as in `client.describe_instances(**with)`):

- structure: an object with the members under botocore's names (PascalCase,
  or the service's own spelling); unknown members are errors, the shape's
  required members are required (JSON Schema `object`,
  `additionalProperties: false`). A union structure takes exactly one member
  (`minProperties`/`maxProperties` 1).
- document structure, `jsonvalue` string: any JSON value (`{}`).
- list: a list (`array`); map: an object with string keys (`object` with
  `additionalProperties`).
- string: a string; with an `enum`, one of its values (`enum`).
- integer, long: an integer; float, double: a number; boolean: a boolean.
- blob: a string, sent as its UTF-8 bytes; or `{"base64": "..."}`, decoded
  and sent as those bytes (binary data).
- timestamp: an ISO-8601 date-time string (`2024-05-01T12:00:00Z`) or a
  number of seconds since the epoch (botocore converts either).

Recursive shapes (a structure that contains itself, e.g. DynamoDB's
`AttributeValue` or WAFv2's nested statements) are followed once: where a
shape reappears inside itself, any JSON value is accepted there, and botocore
checks it before anything is sent. What is cut depends only on the path from
the operation's input, so an operation always gets the same model.

Field descriptions are the first sentence of botocore's documentation with
the HTML removed (at most `MAX_DOC` characters).

Why not `pydantic.create_model` per shape: botocore describes about 20 000
operations over 15 000 input structures; building them through pydantic's
schema generation took ~40 s of CPU here, and its JSON Schema generation,
which walks each operation's whole tree again, ~35 s more. Here one walk of
the shapes yields, per shape, a pydantic-core schema and a JSON Schema
fragment, both shared between operations (every operation, models and
schemas: ~12 s, most of it reading botocore's files). Each
operation still gets a real pydantic model class (`GeneratedInput`):
`model_validate`, `__init__`, `model_dump` behave as usual, and errors are
pydantic's (`Field required`, `Extra inputs are not permitted`, located by
member). Its `__pydantic_validator__` is compiled from the walk's core
schema, `model_json_schema` returns the walk's JSON Schema, and
`model_fields` lists the top-level members (typed `Any` there: their types
live in the validator and the schema).
"""

import base64
import binascii
import functools
import hashlib
import html
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo
from pydantic_core import SchemaSerializer, SchemaValidator
from pydantic_core import core_schema as cs
from pydantic_core.core_schema import CoreSchema

__all__ = [
    "MAX_DOC",
    "GeneratedInput",
    "OperationInfo",
    "ServiceShapes",
    "clean_doc",
    "data_loader",
    "forget",
    "input_model",
    "service_description",
    "service_shapes",
]

#: Longest field description kept (characters).
MAX_DOC = 240
#: Enums longer than this get a short error message (EC2's InstanceType has ~1000 values).
SHORT_ENUM = 12
RECURSIVE_NOTE = "Recursive: any JSON value is accepted here (botocore checks it)."
BLOB_NOTE = 'A string is sent as its UTF-8 bytes; {"base64": "..."} sends binary data.'
TIMESTAMP_NOTE = "An ISO-8601 date-time (2024-05-01T12:00:00Z) or seconds since the epoch."

_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]")


@functools.cache
def data_loader() -> Any:
    """The botocore loader for the installed botocore's own data only.

    Not `~/.aws/models` or `AWS_DATA_PATH`: a worker's home directory must not
    change what an action accepts or how it is sent.
    """
    from botocore.loaders import Loader

    return Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)


def service_description(service: str) -> dict[str, Any]:
    """botocore's `service-2` description of `service` (cached by the loader)."""
    return data_loader().load_service_model(service, "service-2")  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=8192)
def clean_doc(doc: str | None, limit: int = MAX_DOC) -> str:
    """The first sentence of botocore's HTML documentation, as plain text."""
    if not doc:
        return ""
    text = html.unescape(_TAGS.sub(" ", doc))
    text = _SPACE.sub(" ", text).strip()
    m = _SENTENCE.match(text)
    if m is not None:
        text = m.group(1)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# ------------------------------------------------------------------ scalars


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise ValueError(
        "expected an ISO-8601 date-time like 2024-05-01T12:00:00Z, "
        "or a number of seconds since the epoch"
    )


def _blob(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("`base64` is not valid base64 (standard alphabet, padded)") from None
    raise ValueError('expected a string (sent as UTF-8) or {"base64": "..."} (binary data)')


_STR = cs.str_schema()
_J_STR = {"type": "string"}
_CORE_SCALARS: dict[str, CoreSchema] = {
    "string": _STR,
    "integer": cs.int_schema(),
    "long": cs.int_schema(),
    "float": cs.float_schema(),
    "double": cs.float_schema(),
    "boolean": cs.bool_schema(),
    "blob": cs.no_info_plain_validator_function(_blob),
    "timestamp": cs.no_info_plain_validator_function(_timestamp),
}
_JSON_SCALARS: dict[str, dict[str, Any]] = {
    "string": _J_STR,
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "blob": {
        "anyOf": [
            _J_STR,
            {
                "type": "object",
                "properties": {
                    "base64": {
                        "type": "string",
                        "contentEncoding": "base64",
                        "description": "The bytes, base64-encoded.",
                    }
                },
                "required": ["base64"],
                "additionalProperties": False,
            },
        ]
    },
    "timestamp": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]},
}
_NOTES = {"blob": BLOB_NOTE, "timestamp": TIMESTAMP_NOTE}
_ANY_CORE = cs.any_schema()


def _exactly_one(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) != 1:
        raise ValueError("set exactly one member of this union")
    return value


# ------------------------------------------------------------------ model class


@dataclass(frozen=True, slots=True)
class OperationInfo:
    """What a generated input model is the input of.

    Attributes:
        service: botocore's service name (`ec2`).
        operation: The PascalCase operation name (`DescribeInstances`).
        members: The input's top-level members, in botocore's order.
        json_schema: The JSON Schema of the input, as text.
    """

    service: str
    operation: str
    members: tuple[str, ...]
    json_schema: str


class GeneratedInput(BaseModel):
    """Base of the generated input models (see the module docstring).

    An instance holds the members given, under their botocore names, as
    attributes (`params.InstanceIds`); nested values are plain dicts and
    lists, as boto3 takes them. Blobs given as `{"base64": ...}` are bytes.
    """

    model_config = ConfigDict(extra="forbid")

    # A dunder: not a pydantic field, and no annotation for pydantic to
    # evaluate again for each of the 20 000 subclasses.
    __aws_operation__ = OperationInfo("", "", (), '{"type": "object"}')

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON Schema (Draft 2020-12) made from the botocore shapes (a fresh copy)."""
        return json.loads(cls.__aws_operation__.json_schema)  # type: ignore[no-any-return]

    def boto_params(self) -> dict[str, Any]:
        """The members given, as the keyword arguments of the boto3 method."""
        given = self.model_fields_set
        members = self.__aws_operation__.members
        return {name: self.__dict__[name] for name in members if name in given}


# ------------------------------------------------------------------ the walk


@dataclass(frozen=True, slots=True)
class _Type:
    core: CoreSchema
    json: dict[str, Any]
    #: `$defs` names this type refers to directly.
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Def:
    core: CoreSchema
    json: dict[str, Any]
    refs: tuple[str, ...]


_ANY = _Type(_ANY_CORE, {})
#: Where a recursive shape reappears inside itself.
_RECURSIVE = _Type(_ANY_CORE, {"description": RECURSIVE_NOTE})


class ServiceShapes:
    """Walks one service's shapes; makes (and caches) its operations' input models."""

    def __init__(self, service: str, description: dict[str, Any]) -> None:
        self.service = service
        self.shapes: dict[str, dict[str, Any]] = description["shapes"]
        self.operations: dict[str, dict[str, Any]] = description["operations"]
        self._types: dict[Any, _Type] = {}
        self._defs: dict[str, _Def] = {}
        self._inputs: dict[str, type[GeneratedInput]] = {}
        self._components: dict[str, frozenset[str]] | None = None
        self._lock = threading.RLock()

    # -- cycles

    def _children(self, name: str) -> list[str]:
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "structure":
            if shape.get("document"):
                return []
            return [m["shape"] for m in shape.get("members", {}).values()]
        if kind == "list":
            return [shape["member"]["shape"]]
        if kind == "map":
            return [shape["value"]["shape"]]
        return []

    def cycles(self) -> dict[str, frozenset[str]]:
        """Shape -> the strongly connected component it is on, for shapes on a cycle."""
        if self._components is not None:
            return self._components
        # Tarjan's algorithm, iterative (shape graphs are deep).
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        out: dict[str, frozenset[str]] = {}
        counter = 0
        for root in self.shapes:
            if root in index:
                continue
            work: list[tuple[str, list[str], int]] = [(root, self._children(root), 0)]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children, i = work[-1]
                if i < len(children):
                    work[-1] = (node, children, i + 1)
                    child = children[i]
                    if child not in index:
                        index[child] = low[child] = counter
                        counter += 1
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, self._children(child), 0))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp: list[str] = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1 or node in children:
                        frozen = frozenset(comp)
                        for w in comp:
                            out[w] = frozen
        self._components = out
        return out

    # -- shape -> type

    def _type(self, name: str, path: frozenset[str]) -> _Type:
        """The type of shape `name` reached through the (cyclic) shapes in `path`."""
        shape = self.shapes[name]
        kind = shape["type"]
        if kind in _CORE_SCALARS:
            if kind == "string" and shape.get("enum"):
                return self._enum(name, shape["enum"])
            return _Type(_CORE_SCALARS[kind], _JSON_SCALARS[kind])
        if kind == "structure" and shape.get("document"):
            return _ANY
        if name in path:
            return _RECURSIVE  # a recursive shape met again inside itself
        component = self.cycles().get(name)
        # The type depends only on which shapes of its own cycle are already on
        # the path (those become "any"): that is the cache key.
        cut = path & component if component else frozenset()
        key = (name, cut)
        found = self._types.get(key)
        if found is not None:
            return found
        inner = path | {name} if component else path
        if kind == "list":
            item = self._type(shape["member"]["shape"], inner)
            made = _Type(
                cs.list_schema(item.core), {"type": "array", "items": item.json}, item.refs
            )
        elif kind == "map":
            value = self._type(shape["value"]["shape"], inner)
            made = _Type(
                cs.dict_schema(_STR, value.core),
                {"type": "object", "additionalProperties": value.json},
                value.refs,
            )
        else:
            ref = _def_name(name, cut)
            self._structure(ref, name, shape, inner)
            made = _Type(cs.definition_reference_schema(ref), {"$ref": f"#/$defs/{ref}"}, (ref,))
        self._types[key] = made
        return made

    def _enum(self, name: str, values: list[str]) -> _Type:
        key = ("enum", name)
        found = self._types.get(key)
        if found is not None:
            return found
        core: CoreSchema = cs.literal_schema(list(values))
        if len(values) > SHORT_ENUM:
            sample = ", ".join(repr(v) for v in values[:4])
            core = cs.custom_error_schema(
                core,
                custom_error_type="aws_enum",
                custom_error_message=(
                    f"Input should be one of the {len(values)} values of {name} "
                    f"(e.g. {sample}; see the action's input schema)"
                ),
            )
        made = _Type(core, {"type": "string", "enum": list(values)})
        self._types[key] = made
        return made

    def _members(
        self, shape: dict[str, Any], path: frozenset[str]
    ) -> tuple[list[tuple[str, _Type, str, bool]], set[str]]:
        """(member, type, description, required) for each member; the `$defs` used."""
        required = set(shape.get("required", ()))
        out: list[tuple[str, _Type, str, bool]] = []
        refs: set[str] = set()
        for member, ref in shape.get("members", {}).items():
            target = self.shapes[ref["shape"]]
            kind = target["type"]
            if ref.get("jsonvalue") or target.get("jsonvalue"):
                t = _ANY
            else:
                t = self._type(ref["shape"], path)
            refs.update(t.refs)
            doc = clean_doc(ref.get("documentation") or target.get("documentation"))
            if t is _RECURSIVE:
                doc = f"{doc} {RECURSIVE_NOTE}".strip()
            note = _NOTES.get(kind)
            if note:
                doc = f"{doc} {note}".strip()
            out.append((member, t, doc, member in required))
        return out, refs

    def _structure(self, ref: str, name: str, shape: dict[str, Any], path: frozenset[str]) -> None:
        if ref in self._defs:
            return
        # Reserve the name first: a member may lead back here (cut to "any").
        self._defs[ref] = _Def({}, {}, ())
        members, refs = self._members(shape, path)
        fields = {m: cs.typed_dict_field(t.core, required=req) for m, t, _doc, req in members}
        core: CoreSchema = cs.typed_dict_schema(fields, extra_behavior="forbid", cls_name=name)
        js: dict[str, Any] = {"type": "object", "title": name}
        doc = clean_doc(shape.get("documentation"))
        if doc:
            js["description"] = doc
        js["properties"] = {m: _described(t.json, doc) for m, t, doc, _req in members}
        required = [m for m, _t, _doc, req in members if req]
        if required:
            js["required"] = required
        js["additionalProperties"] = False
        if shape.get("union"):
            core = cs.no_info_after_validator_function(_exactly_one, core)
            js["minProperties"] = 1
            js["maxProperties"] = 1
        core = {**core, "ref": ref}
        self._defs[ref] = _Def(core, js, tuple(sorted(refs)))

    def _reachable(self, refs: set[str]) -> list[str]:
        seen: dict[str, None] = {}
        stack = sorted(refs, reverse=True)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen[name] = None
            stack.extend(reversed(self._defs[name].refs))
        return sorted(seen)

    # -- operations

    def input_model(self, operation: str, action_type: str) -> type[GeneratedInput]:
        """The model of `with` for `operation` (its PascalCase API name)."""
        with self._lock:
            made = self._inputs.get(operation)
            if made is None:
                made = self._inputs[operation] = self._make_input(operation, action_type)
            return made

    def _make_input(self, operation: str, action_type: str) -> type[GeneratedInput]:
        op = self.operations[operation]
        title = f"{action_type} input"
        ref = op.get("input")
        if ref is not None:
            root = ref["shape"]
            shape = self.shapes[root]
            members, refs = self._members(shape, frozenset({root}))
            union = bool(shape.get("union"))
        else:
            root, members, refs, union = f"{operation}Input", [], set(), False
        defs = self._reachable(refs)

        core_fields: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        for member, t, doc, req in members:
            inner = t.core if req else cs.with_default_schema(t.core, default=None)
            core_fields[member] = cs.model_field(inner)
            properties[member] = _described(t.json, doc)
            if req:
                required.append(member)

        schema: dict[str, Any] = {"title": title, "type": "object"}
        summary = clean_doc(op.get("documentation"), 400)
        if summary:
            schema["description"] = summary
        schema["properties"] = properties
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        if union:
            schema["minProperties"] = 1
            schema["maxProperties"] = 1
        if defs:
            schema["$defs"] = {d: self._defs[d].json for d in defs}

        cls: type[GeneratedInput] = type(
            _class_name(root),
            (GeneratedInput,),
            {
                "__module__": __name__,
                "__doc__": f"Input of {self.service} {operation}.",
                # Built below from the shapes; pydantic's own build is skipped.
                "model_config": ConfigDict(extra="forbid", title=title, defer_build=True),
                "__aws_operation__": OperationInfo(
                    self.service,
                    operation,
                    tuple(m for m, _t, _d, _r in members),
                    json.dumps(schema),
                ),
            },
        )
        model: CoreSchema = cs.model_schema(
            cls,
            cs.model_fields_schema(core_fields, model_name=title, extra_behavior="forbid"),
        )
        if union:
            model = cs.no_info_after_validator_function(_exactly_one_model, model)
        if defs:
            model = cs.definitions_schema(model, [self._defs[d].core for d in defs])
        config = cs.CoreConfig(title=title, extra_fields_behavior="forbid")
        # The members as pydantic fields (after the class is made: pydantic would
        # otherwise build a validator of its own for them), so that `model_fields`
        # lists them (the validator suggests close names from it).
        cls.__pydantic_fields__ = {  # type: ignore[misc]
            member: FieldInfo(annotation=Any, description=doc or None)
            if req
            else FieldInfo(annotation=Any, default=None, description=doc or None)
            for member, _t, doc, req in members
        }
        cls.__pydantic_core_schema__ = model  # type: ignore[misc]
        cls.__pydantic_validator__ = SchemaValidator(model, config)  # type: ignore[misc]
        cls.__pydantic_serializer__ = SchemaSerializer(model, config)  # type: ignore[misc]
        cls.__pydantic_complete__ = True  # type: ignore[misc]
        return cls

    # -- examples

    def example(self, operation: str) -> dict[str, Any]:
        """A valid `with` for `operation`: its required members, with placeholder values."""
        ref = self.operations[operation].get("input")
        if ref is None:
            return {}
        value = self._example(ref["shape"], frozenset(), "")
        return value if isinstance(value, dict) else {}

    def _example(self, name: str, path: frozenset[str], member: str) -> Any:
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "string":
            if shape.get("enum"):
                return shape["enum"][0]
            return _example_string(shape, member)
        if kind in ("integer", "long"):
            return max(int(shape.get("min", 1)), 0)
        if kind in ("float", "double"):
            return float(shape.get("min", 1))
        if kind == "boolean":
            return True
        if kind == "blob":
            return "data"
        if kind == "timestamp":
            return "2024-05-01T12:00:00Z"
        if name in path or (kind == "structure" and shape.get("document")):
            return {}
        inner = path | {name}
        if kind == "list":
            item = self._example(shape["member"]["shape"], inner, member)
            return [item] * max(1, int(shape.get("min", 1)))
        if kind == "map":
            return {}
        members = shape.get("members", {})
        if shape.get("union"):
            first = next(iter(members), None)
            if first is None:
                return {}
            return {first: self._example(members[first]["shape"], inner, first)}
        return {
            m: self._example(members[m]["shape"], inner, m)
            for m in shape.get("required", ())
            if m in members
        }


def _exactly_one_model(model: BaseModel) -> BaseModel:
    if len(model.model_fields_set) != 1:
        raise ValueError("set exactly one member of this union")
    return model


def _described(js: dict[str, Any], doc: str) -> dict[str, Any]:
    return {**js, "description": doc} if doc else js


def _def_name(shape: str, cut: frozenset[str]) -> str:
    name = _UNSAFE.sub("_", shape)
    if not cut:
        return name
    digest = hashlib.sha1(",".join(sorted(cut)).encode()).hexdigest()[:8]
    return f"{name}.{digest}"


def _example_string(shape: dict[str, Any], member: str) -> str:
    low = int(shape.get("min", 0))
    high = int(shape.get("max", 64))
    text = "example"
    if "arn" in member.lower():
        text = "arn:aws:iam::123456789012:role/example"
    if len(text) < low:
        text = text.ljust(low, "x")
    return text[: max(high, low, 1)]


def _class_name(shape: str) -> str:
    name = re.sub(r"[^0-9A-Za-z_]", "_", shape)
    return name if name.isidentifier() else f"S_{name}"


_services: dict[str, ServiceShapes] = {}
_services_lock = threading.Lock()


def service_shapes(service: str) -> ServiceShapes:
    """The (cached) shape walker of `service`."""
    with _services_lock:
        found = _services.get(service)
        if found is None:
            found = _services[service] = ServiceShapes(service, service_description(service))
        return found


def input_model(service: str, operation: str, action_type: str) -> type[GeneratedInput]:
    """The input model of one operation (made on first use)."""
    return service_shapes(service).input_model(operation, action_type)


def forget(service: str) -> None:
    """Drop `service`'s walker and models (they are rebuilt on next use).

    For sweeps over every service (tests): a worker keeps what it built. The
    specs registered by `get_action` keep their own model.
    """
    with _services_lock:
        _services.pop(service, None)
