"""`@frozen` and `@mutable` (ncdc/nodes.py) behave as the `@dataclass` they stand for."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import field

import pytest

from ncdc import nodes
from ncdc.nodes import frozen, mutable


def _pair(decorate, reference):
    """The same class body, made by ncdc's decorator and by the standard library's."""

    def body():
        class Node:
            a: int
            b: str = "b"
            c: list = field(default_factory=list, compare=False)
            d: int = field(default=4, repr=False)

            def total(self) -> int:
                return self.a + self.d
        return Node

    return decorate(body()), reference(body())


@pytest.mark.parametrize("kind", ["frozen", "frozen identity", "mutable", "mutable identity"])
def test_same_behaviour_as_dataclass(kind):
    eq = "identity" not in kind
    if kind.startswith("frozen"):
        ours, theirs = _pair(frozen(eq=eq), dataclasses.dataclass(frozen=True, eq=eq))
    else:
        ours, theirs = _pair(mutable(eq=eq), dataclasses.dataclass(eq=eq))
    for args, kwargs in [((1,), {}), ((1, "x"), {"d": 7}), ((), {"a": 2, "c": [3]})]:
        x, y = ours(*args, **kwargs), theirs(*args, **kwargs)
        assert repr(x).replace("Node", "N") == repr(y).replace("Node", "N")
        assert dataclasses.asdict(x) == dataclasses.asdict(y)
        assert x.total() == y.total()
        assert (x == ours(*args, **kwargs)) == (y == theirs(*args, **kwargs))
        assert (x == ours(*args, **{**kwargs, "c": ["other"]})) == (y == theirs(*args, **{**kwargs, "c": ["other"]}))
        assert (ours.__hash__ is None) == (theirs.__hash__ is None)
        if ours.__hash__ is not None and eq:
            assert hash(x) == hash(ours(*args, **kwargs))
        assert dataclasses.replace(x, a=9).a == 9 and x.a != 9
        assert x.c is not ours(*args, **kwargs).c or "c" in kwargs  # a fresh default for each instance
    with pytest.raises(TypeError):
        ours()  # `a` has no default
    with pytest.raises(TypeError):
        ours(1, "x", [], 4, 5)
    x = ours(1)
    if kind.startswith("frozen"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            x.a = 2  # type: ignore[misc]
        assert ours.__dataclass_params__.frozen  # type: ignore[attr-defined]
    else:
        x.a = 2
        assert x.a == 2


def test_subclass_compares_its_own_fields():
    @frozen
    class Base:
        a: int

    @frozen
    class Derived(Base):
        b: int = 0

    assert Derived(1, 2) != Derived(1, 3) and Derived(1, 2) == Derived(1, 2)
    assert Base(1) == Base(1) and Base(1) != Derived(1)
    assert repr(Derived(1)) == "test_subclass_compares_its_own_fields.<locals>.Derived(a=1, b=0)"


def test_ir_nodes_pickle():
    from ncdc import ir
    from ncdc.sizes import Size, Symbol

    axis = ir.Axis(Size.of(Symbol("k")))
    t = ir.TensorType((axis, axis))
    again = pickle.loads(pickle.dumps(t))
    assert str(again) == str(t) == "k k"


def test_the_methods_compiled_ahead_are_current_and_used():
    from tests.update_golden import ROOT, generate_ahead

    from ncdc import _ahead, tree

    assert generate_ahead() == (ROOT / "ncdc" / "_ahead.py").read_text(encoding="utf-8"), \
        "ncdc/_ahead.py is out of date: run `python -m tests.update_golden`"
    tree.Name("x", None)
    assert tree.Name.__init__.__code__.co_filename == _ahead.__file__


def test_a_method_not_compiled_ahead_is_compiled_when_first_used():
    @frozen
    class Unusual:
        a_field_no_ncdc_class_has: int

    assert Unusual(1) == Unusual(1) and hash(Unusual(1)) == hash(Unusual(1))
    assert Unusual.__init__.__code__.co_filename == "<string>"


def test_fields_replace_and_is_dataclass_agree_with_the_standard_library():
    from ncdc import ir
    from ncdc.ops.layers import ConvAttrs

    for cls in (ir.Axis, ir.Call, ConvAttrs):
        ours, theirs = nodes.fields(cls), dataclasses.fields(cls)
        assert [(f.name, f.init, f.repr, f.compare, f.hash, dict(f.metadata)) for f in ours] == \
            [(f.name, f.init, f.repr, f.compare, f.hash, dict(f.metadata)) for f in theirs]
        assert [f.default is nodes.MISSING for f in ours] == [f.default is dataclasses.MISSING for f in theirs]
        assert nodes.is_dataclass(cls) and dataclasses.is_dataclass(cls)
    axis = ir.Axis(4)
    assert nodes.replace(axis, size=5) == dataclasses.replace(axis, size=5) == ir.Axis(5)

    @dataclasses.dataclass
    class Plain:
        x: int = 1

    assert nodes.fields(Plain)[0].name == "x" and nodes.replace(Plain(), x=2) == Plain(2)
    assert nodes.is_dataclass(Plain) and not nodes.is_dataclass(3)


def test_checking_imports_neither_dataclasses_nor_typing_nor_shutil():
    """Nor hashlib: together a third of `import ncdc` (the back ends and the tests use them); nor
    shutil (argparse's width of the terminal) and unicodedata (names that are not ASCII)."""
    import subprocess
    import sys

    from tests.update_golden import ROOT

    heavy = ("dataclasses", "typing", "hashlib", "shutil", "unicodedata")
    code = (f"import sys, ncdc.cli; ncdc.cli.main(['check', 'specs/']); "
            f"print(sorted(m for m in {heavy} if m in sys.modules))")
    for _ in range(2):  # the first may find the parser's tables not made yet: Lark makes them
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
