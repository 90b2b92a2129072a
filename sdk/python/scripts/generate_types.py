"""Generate `pivotal/types.py` from the API's OpenAPI document.

    python sdk/python/scripts/generate_types.py                 # the document the app builds
    python sdk/python/scripts/generate_types.py --url http://127.0.0.1:8000/api/v1/openapi.json
    python sdk/python/scripts/generate_types.py --check         # exit 1 when the file is stale

Every schema a response carries becomes a msgspec Struct (tagged by its `object` constant, so
an event's `data.object` decodes to the right class); every request body becomes a TypedDict
of create/update parameters; every list operation's query parameters become a TypedDict; the
error registry becomes `ERROR_CODES`. A test regenerates the file and compares, so a field
the API gains and the SDK lacks fails the build.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

SDK_ROOT = Path(__file__).resolve().parents[1]
TARGET = SDK_ROOT / "src" / "pivotal" / "types.py"
REF_PREFIX = "#/components/schemas/"
HTTP_METHODS = ("get", "post", "patch", "delete", "put")

HEADER = '''"""Typed objects of the Pivotal API. Generated from its OpenAPI document by
sdk/python/scripts/generate_types.py: do not edit by hand, run the script."""

from __future__ import annotations

import datetime
from typing import Any, Literal, Required, TypedDict

import msgspec
'''


def _ref_name(ref: str) -> str:
    return ref.removeprefix(REF_PREFIX)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_"))


def _walk_refs(node: Any, found: set[str]) -> None:
    """Every component `node` references, directly or through other components."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(_ref_name(ref))
        for value in node.values():
            _walk_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_refs(value, found)


def _closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        found: set[str] = set()
        _walk_refs(schemas[name], found)
        todo.extend(found - seen)
    return seen


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _python_type(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(value), "Any")


def _default(value: Any) -> str:
    if value == [] or value == {}:
        return f"msgspec.field(default_factory={type(value).__name__})"
    return repr(value)


def _is_struct(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" and "properties" in schema


class Generator:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        request, response = set(), set()
        for _, _, operation in _operations(document):
            _walk_refs(operation.get("requestBody", {}), request)
            for status, answer in operation.get("responses", {}).items():
                if status.startswith("2"):
                    _walk_refs(answer.get("content", {}), response)
        # errors are described by allOf components; their envelope is a response type too
        response |= {n for n in self.schemas if n.startswith("Error") and "allOf" not in self.schemas[n]}
        self.request = _closure(request, self.schemas)
        self.response = _closure(response, self.schemas)
        self.structs: list[str] = []  # class definitions in dependency order
        self.defined: set[str] = set()
        self.tags: dict[str, str] = {}  # `object` constant -> class name

    # ---- annotations -------------------------------------------------------------------

    def annotation(self, schema: dict[str, Any], hint: str, params: bool) -> str:
        if "$ref" in schema:
            name = _ref_name(schema["$ref"])
            if params and name in self.request and name not in self.response:
                return f"{name}Params"
            self.struct(name, self.schemas[name])
            return name
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                parts = [self.annotation(s, hint, params) for s in schema[combinator]]
                return " | ".join(dict.fromkeys(p for part in parts for p in part.split(" | ")))
        if "const" in schema or "enum" in schema:
            values = schema["enum"] if "enum" in schema else [schema["const"]]
            if not params:
                # answers are not checked against the enum: a value a newer server adds
                # must not break an older client
                return _python_type(values[0])
            return f"Literal[{', '.join(repr(v) for v in values)}]"
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(self.annotation({**schema, "type": k}, hint, params) for k in kind)
        return self._typed(kind, schema, hint, params)

    def _typed(self, kind: str | None, schema: dict[str, Any], hint: str, params: bool) -> str:
        if kind == "string":
            fmt = {"date": "datetime.date", "date-time": "datetime.datetime"}.get(
                schema.get("format", "")
            )
            if fmt is None:
                return "str"
            return f"{fmt} | str" if params else fmt
        simple = {"integer": "int", "number": "float", "boolean": "bool", "null": "None"}
        if kind in simple:
            return simple[kind]
        if kind == "array":
            return f"list[{self.annotation(schema.get('items', {}), hint, params)}]"
        if kind == "object" and "properties" in schema and not params:
            self.struct(hint, schema)
            return hint
        if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            return f"dict[str, {self.annotation(schema['additionalProperties'], hint, params)}]"
        return "dict[str, Any]" if kind == "object" else "Any"

    # ---- classes -----------------------------------------------------------------------

    def struct(self, name: str, schema: dict[str, Any]) -> None:
        """A response schema as a msgspec Struct, defined after the structs it uses."""
        if name in self.defined or not _is_struct(schema):
            return
        self.defined.add(name)
        properties = dict(schema["properties"])
        required = set(schema.get("required", ()))
        options = ["kw_only=True"]
        tag = properties.get("object", {}).get("const")
        if isinstance(tag, str):
            # the `object` constant tells the union members apart, as the wire does
            properties.pop("object")
            self.tags.setdefault(tag, name)
            options += ["tag_field='object'", f"tag={tag!r}"]
        lines = [f"class {name}(msgspec.Struct, {', '.join(options)}):"]
        doc = schema.get("description") or schema.get("title")
        if doc and doc != name:
            lines.append(f'    """{doc}"""')
        for field, spec in properties.items():
            kind = self.annotation(spec, name + _camel(field), params=False)
            if field in required:
                lines.append(f"    {field}: {kind}")
            elif "default" in spec:
                lines.append(f"    {field}: {kind} = {_default(spec['default'])}")
            else:
                # an answer that leaves the field out means the same as null
                optional = kind if "None" in kind.split(" | ") else f"{kind} | None"
                lines.append(f"    {field}: {optional} = None")
        if tag is not None:
            lines += ["", "    @property", f"    def object(self) -> Literal[{tag!r}]:",
                      f"        return {tag!r}"]
        self.structs.append("\n".join(lines))

    def params(self, name: str, schema: dict[str, Any]) -> str:
        """A request body as a TypedDict: what create/update/upsert accept."""
        required = set(schema.get("required", ()))
        lines = [f"class {name}Params(TypedDict, total=False):"]
        for field, spec in schema.get("properties", {}).items():
            kind = self.annotation(spec, name + _camel(field), params=True)
            lines.append(f"    {field}: {f'Required[{kind}]' if field in required else kind}")
        if len(lines) == 1:
            lines.append("    pass")
        return "\n".join(lines)

    def list_params(self) -> list[str]:
        """The query parameters of every list operation, as TypedDicts."""
        classes = []
        for _, method, operation in _operations(self.document):
            names = {p["name"] for p in operation.get("parameters", ())}
            if method != "get" or "cursor" not in names:
                continue
            lines = [f"class {_camel(operation['operationId'])}Params(TypedDict, total=False):"]
            for parameter in operation["parameters"]:
                if parameter.get("in") != "query" or not parameter["name"].isidentifier():
                    continue
                kind = self.annotation(parameter.get("schema", {}), "", params=True)
                lines.append(f"    {parameter['name']}: {kind}")
            classes.append("\n".join(lines))
        return classes

    def error_codes(self) -> str:
        """code -> (status, type), from the Error<status> components."""
        rows = []
        for name, schema in self.schemas.items():
            if not (name.startswith("Error") and name[5:].isdigit()):
                continue
            error = schema["allOf"][1]["properties"]["error"]["properties"]
            for code in error["code"]["enum"]:
                rows.append(f"    {code!r}: ({int(name[5:])}, {error['type']['const']!r}),")
        return "ERROR_CODES: dict[str, tuple[int, str]] = {\n" + "\n".join(rows) + "\n}"

    def render(self) -> str:
        params = [
            self.params(name, self.schemas[name])
            for name in self.schemas
            if name in self.request and name not in self.response
        ]
        for name in self.schemas:
            if name in self.response:
                self.struct(name, self.schemas[name])
        objects = "".join(f"    {tag!r}: {name},\n" for tag, name in self.tags.items())
        sections = [
            "# ---- objects the API answers with " + "-" * 58,
            *self.structs,
            f"OBJECT_TYPES: dict[str, type[msgspec.Struct]] = {{\n{objects}}}",
            "# ---- request bodies: create and update parameters " + "-" * 41,
            *params,
            "# ---- list parameters " + "-" * 70,
            *self.list_params(),
            "# ---- every error code the API answers with: (status, type) " + "-" * 31,
            self.error_codes(),
        ]
        body = "\n\n\n".join(s.strip("\n") for s in sections)
        # one blank line between the imports and a comment, as isort has it
        return HEADER + "\n" + body + "\n"


def generate(document: dict[str, Any]) -> str:
    return Generator(document).render()


def load_document(url: str | None) -> dict[str, Any]:
    if url:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.load(answer)
    # run from the repository: the document the app serves, built the same way
    sys.path.insert(0, str(SDK_ROOT.parents[1]))
    from app.main import RESOURCES
    from app.openapi.document import build_document

    return json.loads(json.dumps(build_document(RESOURCES)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a served openapi.json (default: build it from app/)")
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    source = generate(load_document(args.url))
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != source:
            print(f"{args.output} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(source)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
