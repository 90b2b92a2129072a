"""The SDK's typed objects cannot drift from the API's OpenAPI document, and the SDK installs
on its own."""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pivotal
import pytest
from pivotal import errors, types
from pivotal.resources import EXPANDABLE

from app.main import RESOURCES
from app.openapi.document import build_document

SDK = Path(__file__).resolve().parents[2] / "sdk" / "python"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_types", SDK / "scripts" / "generate_types.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _document() -> dict:
    return json.loads(json.dumps(build_document(RESOURCES)))


def test_committed_types_are_what_the_generator_makes_of_the_apps_document():
    generator = _generator()
    assert generator.generate(_document()) == generator.TARGET.read_text(), (
        "sdk/python/src/pivotal/types.py is stale: run sdk/python/scripts/generate_types.py")


def test_committed_types_are_what_the_generator_makes_of_the_served_document(api):
    generator = _generator()
    assert generator.generate(api.openapi()) == generator.TARGET.read_text()


def test_a_field_the_api_gains_changes_the_generated_types():
    document = _document()
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["Customer"]["properties"]["industry"] = {"type": "string"}
    changed["components"]["schemas"]["Customer"]["required"].append("industry")
    generated = _generator().generate(changed)
    assert generated != _generator().generate(document)
    customer = generated.split("class Customer(")[1].split("\nclass ")[0]
    assert "    industry: str\n" in customer


def test_every_error_type_the_api_answers_has_its_exception_class():
    assert errors.ERROR_TYPES <= set(errors.ERROR_CLASSES)
    for code, (status, error_type) in types.ERROR_CODES.items():
        raised = errors.error_from_answer(
            status, json.dumps({"error": {"type": error_type, "code": code, "message": "m"}}).encode(),
            {}, "req_1")
        assert isinstance(raised, errors.ERROR_CLASSES[error_type])
        assert (raised.status, raised.code, raised.request_id) == (status, code, "req_1")


def test_every_exception_class_is_importable_from_pivotal():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, errors.PivotalError)]
    assert len(classes) == 11
    for cls in classes:
        assert getattr(pivotal, cls.__name__) is cls


def test_expandable_references_are_the_ones_the_document_offers(api):
    offered = {}
    for path, item in api.openapi()["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["name"] == "expand" and path.count("/") == 1:
                schema = parameter["schema"]
                values = schema.get("enum") or schema.get("items", {}).get("enum", [])
                offered[path.strip("/")] = set(values)
    if not offered:
        pytest.skip("expand not on this server yet")
    assert offered == {name: set(fields) for name, fields in EXPANDABLE.items()}


def test_the_sdk_builds_as_a_wheel_of_its_own(tmp_path):
    # built from a copy: setuptools leaves a build/ folder in the tree it builds
    source = shutil.copytree(SDK, tmp_path / "source",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(tmp_path), str(source)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("pivotal_sdk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        scripts = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert {"pivotal/__init__.py", "pivotal/types.py", "pivotal/py.typed",
            "pivotal/backfill/cli.py"} <= names
    assert not any(name.startswith(("app/", "tests/")) for name in names)
    requires = sorted(line.split(":")[1].split(">")[0].strip()
                      for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    assert requires == ["httpx", "msgspec"]
    assert "pivotal-backfill = pivotal.backfill.cli:main" in scripts


def test_batch_results_decode_the_shape_the_document_gives_them(api):
    from pivotal._core import BatchResult
    from pivotal.resources import RESOURCES as SDK_RESOURCES

    paths = {p: item for p, item in api.openapi()["paths"].items() if p.endswith("/batch")}
    if not paths:
        pytest.skip("batch API not documented on this server yet")
    assert set(paths) == {"/customers/batch", "/contacts/batch", "/onboardings/batch"}
    for path, item in paths.items():
        answer = item["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        result = answer["properties"]["data"]["items"]
        assert set(result["properties"]) == {"object", *BatchResult.__struct_fields__}
        assert set(result["required"]) - {"object"} <= set(BatchResult.__struct_fields__)
        data_type = result["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        assert data_type == SDK_RESOURCES[path.strip("/").split("/")[0]].object.__name__
