"""The typed IR as JSON (`ncdc check --emit ir --format json`, ncdc/ir_json.py): valid against its
JSON Schema (tests/data/ncdc-ir.schema.json) on every spec, every reference resolving, the same
values as the text form, and deterministic."""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ncdc.ir_json import VERSION, program_json
from ncdc.ir_text import format_program
from test_ir import IDS, SPECS, _check

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "ncdc-ir.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validate():
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)

    def check(document):
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
    return check


def _document(programs: list) -> dict:
    return {"diagnostics": [], "format": "ncdc-ir", "version": VERSION, "programs": programs}


def _objects(item):
    """Every JSON object in `item`, in document order."""
    if isinstance(item, dict):
        yield item
        for value in item.values():
            yield from _objects(value)
    elif isinstance(item, list):
        for value in item:
            yield from _objects(value)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_spec_as_json(spec, validate):
    program = _check(spec)
    data = program_json(program)
    validate(_document([data]))
    assert json.dumps(program_json(_check(spec))) == json.dumps(data)  # deterministic, from a fresh check

    defined: dict[str, set[int]] = {"ValueRef": set(), "LocalRef": set()}
    values = collections.Counter()
    for obj in _objects(data):
        if "id" in obj and "fields" in obj:  # a value or a wire, written where first met
            kind = "LocalRef" if obj["class"] in ("Local", "Param") else "ValueRef"
            assert obj["id"] not in defined[kind]
            defined[kind].add(obj["id"])
            assert obj["span"].startswith(f"{os.path.dirname(spec)}/")  # the spec's, or an imported one's beside it
            if kind == "ValueRef":
                line, column = obj["span"].rsplit(":", 2)[1:]
                values[obj["class"].lower(), int(line), int(column)] += 1
        elif obj.get("class") in defined:  # a reference: to something written before it
            assert obj["id"] in defined[obj["class"]], obj

    # The same values as the text form, each with its place in the spec.
    printed = collections.Counter()
    for m in re.finditer(r"^ *%\d+ = (\w+).*  @(\d+):(\d+)$", format_program(program), re.M):
        name = m.group(1).replace("_", "")  # `hparam_value` is HParamValue: compared without case
        printed[name, int(m.group(2)), int(m.group(3))] += 1
    assert values == printed


def test_a_value_carries_its_class_type_span_and_fields(validate):
    data = program_json(_check("specs/attention.ncd"))
    einsum = next(o for o in _objects(data) if o.get("class") == "Einsum")
    assert set(einsum) == {"class", "id", "type", "span", "fields"}
    assert einsum["type"]["class"] == "TensorType" and einsum["type"]["dtype"] == "float"
    assert all(set(axis) == {"class", "size", "label", "parts"} for axis in einsum["type"]["axes"])
    assert list(einsum["fields"]) == ["operands", "inputs", "output", "sizes"]
    assert einsum["fields"]["sizes"]["class"] == "Dict"


def test_the_schema_rejects_what_is_not_the_ir(validate):
    node = {"class": "Einsum", "id": 0, "type": {"class": "ScalarType"}, "span": "a.ncd:1:1", "fields": {}}
    validate(_document([{"path": "a.ncd", "constants": [], "definitions": [node]}]))
    for broken in ({**node, "span": "a.ncd"}, {k: v for k, v in node.items() if k != "span"},
                   {**node, "fields": {"sizes": {"h": "4"}}}, {**node, "class": "Dict"},
                   {**node, "type": {"class": "TensorType", "axes": [{"size": "h"}], "dtype": "float"}}):
        with pytest.raises(AssertionError):
            validate(_document([{"path": "a.ncd", "constants": [], "definitions": [broken]}]))


def test_cli_emits_json_with_the_diagnostics(tmp_path, validate):
    (tmp_path / "bad.ncd").write_text("def F(X: a) -> b:\n    return X\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ncdc", "check", "--emit", "ir", "--format", "json",
                             str(ROOT / "specs" / "mlp.ncd"), str(tmp_path / "bad.ncd")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [p["path"] for p in data["programs"]] == [str(ROOT / "specs" / "mlp.ncd")]
    assert data["diagnostics"] and data["diagnostics"][0]["code"].startswith("E")
    validate(data)
