"""ncdc.load gives real, importable modules: they pickle, torch.save whole, show their source and
compile with torch.compile; tracebacks of generated code point into the spec."""

from __future__ import annotations

import inspect
import io
import os
import pickle
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import torch

import ncdc

SPECS = Path(__file__).resolve().parent.parent / "specs"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NCDC_CACHE_DIR", str(folder))
    return folder


@pytest.fixture()
def spec(tmp_path):
    """A copy of a shipped spec in a folder of its own: nothing may be written beside it."""
    def copy(name: str) -> Path:
        folder = tmp_path / "specs"
        folder.mkdir(exist_ok=True)
        target = folder / name
        target.write_text((SPECS / name).read_text(encoding="utf-8"), encoding="utf-8")
        return target
    return copy


def test_loaded_module_is_importable_and_cached(cache, spec):
    path = spec("mlp.ncd")
    module = ncdc.load(path)
    assert module.__name__.startswith("ncdc_generated.mlp_")
    assert sys.modules[module.__name__] is module
    assert Path(module.__file__).parent == cache / "generated"
    assert Path(module.__file__).read_text(encoding="utf-8") == ncdc.compile_file(path)
    assert ncdc.load(path) is module  # same text, path and options: the same module
    assert ncdc.load(path, sizes={"w": 28}).__name__ != module.__name__
    assert sorted(p.name for p in path.parent.iterdir()) == ["mlp.ncd"]  # nothing beside the spec


def test_changed_spec_gets_a_new_module(cache, spec):
    path = spec("mlp.ncd")
    first = ncdc.load(path)
    path.write_text(path.read_text(encoding="utf-8").replace("hidden=512", "hidden=64"), encoding="utf-8")
    second = ncdc.load(path)
    assert second.__name__ != first.__name__
    assert second.BasicImageRecogniser().hidden == 64
    assert first.BasicImageRecogniser().hidden == 512


def test_pickle_round_trip(cache, spec):
    module = ncdc.load(spec("mlp.ncd"))
    model = module.BasicImageRecogniser(hidden=16)
    copy = pickle.loads(pickle.dumps(model))
    assert type(copy) is module.BasicImageRecogniser
    x = torch.rand(2, 28, 28)
    torch.testing.assert_close(copy(x), model(x))


def test_torch_save_and_load_whole_model(cache, spec):
    module = ncdc.load(spec("mlp.ncd"))
    model = module.BasicImageRecogniser(hidden=16)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    copy = torch.load(buffer, weights_only=False)
    x = torch.rand(3, 28, 28)
    torch.testing.assert_close(copy(x), model(x))


def test_torch_load_in_a_fresh_process(cache, spec, tmp_path):
    module = ncdc.load(spec("mlp.ncd"))
    model = module.BasicImageRecogniser(hidden=16)
    x = torch.rand(3, 28, 28)
    torch.save(model, tmp_path / "model.pt")
    torch.save(x, tmp_path / "x.pt")
    torch.save(model(x), tmp_path / "y.pt")
    script = (
        "import sys, torch, ncdc\n"
        "d = sys.argv[1]\n"
        "model = torch.load(d + '/model.pt', weights_only=False)\n"
        "x, y = torch.load(d + '/x.pt'), torch.load(d + '/y.pt')\n"
        "torch.testing.assert_close(model(x), y)\n"
        "print(type(model).__module__)\n"
    )
    env = {**os.environ, "NCDC_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == module.__name__


def test_inspect_getsource(cache, spec):
    mlp = ncdc.load(spec("mlp.ncd"))
    source = inspect.getsource(mlp.BasicImageRecogniser)
    assert source.startswith("class BasicImageRecogniser(nn.Module):")
    assert "[mlp.ncd:11]" in source
    composition = ncdc.load(spec("composition.ncd"))
    assert inspect.getsource(composition.h).startswith("def h(")
    assert inspect.getsourcefile(composition.h) == composition.__file__


def _traceback_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def test_traceback_of_a_failing_statement_shows_the_spec_line(cache, spec):
    composition = ncdc.load(spec("composition.ncd"))

    def f(x1, x2):
        raise RuntimeError("box f failed")

    with pytest.raises(RuntimeError) as caught:
        composition.h(torch.rand(3), torch.rand(4, 2), torch.rand(6), f=f, g=lambda a, b: a)
    text = _traceback_text(caught.value)
    assert composition.__file__ in text
    assert "return _apply_box(g" in text  # the generated line itself, read from the cache file
    assert "[composition.ncd:9]" in text


def test_traceback_of_a_torch_error_shows_the_spec_line(cache, spec):
    mlp = ncdc.load(spec("mlp.ncd"))
    model = mlp.BasicImageRecogniser(hidden=16)
    mlp.CHECK_SHAPES = False
    try:
        with pytest.raises(RuntimeError) as caught:
            model(torch.rand(2, 27, 27))
    finally:
        mlp.CHECK_SHAPES = True
    text = _traceback_text(caught.value)
    assert "X = torch.relu(self.L0(X))" in text
    assert "[mlp.ncd:11]" in text


def test_traceback_of_a_shape_error_shows_the_spec_line(cache, spec):
    mlp = ncdc.load(spec("mlp.ncd"))
    with pytest.raises(ValueError) as caught:
        mlp.BasicImageRecogniser(hidden=16)(torch.rand(2, 27, 27))
    text = _traceback_text(caught.value)
    assert '_check_shape("X"' in text
    assert "mlp.ncd:9" in text


def test_torch_compile_of_a_function_taking_a_box(cache, spec):
    composition = ncdc.load(spec("composition.ncd"))

    def f(x1, x2):
        return (x1.sum(-1)[:3, None] + x2[:3, None] + x2[None, 3:]).tanh()

    def g(x0, y):
        return (x0[None, :2] * y.sum(0)[None, :2]).reshape(1, 2)

    compiled = torch.compile(composition.h, fullgraph=False, backend="eager")
    for args in [(torch.rand(3), torch.rand(4, 2), torch.rand(6)),
                 (torch.rand(5, 3), torch.rand(5, 4, 2), torch.rand(5, 6))]:  # the batched one vmaps the boxes
        torch.testing.assert_close(compiled(*args, f=f, g=g), composition.h(*args, f=f, g=g))


def test_no_bytecode_in_the_cache(cache, spec):
    ncdc.load(spec("mlp.ncd"))
    assert [p.suffix for p in (cache / "generated").iterdir()] == [".py"]


def test_an_unwritable_cache_still_loads(tmp_path, monkeypatch, spec):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("NCDC_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    mlp = ncdc.load(spec("mlp.ncd"))
    assert mlp.BasicImageRecogniser(hidden=16)(torch.rand(2, 28, 28)).shape == (2, 10)
