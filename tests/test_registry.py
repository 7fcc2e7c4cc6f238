"""The operation registry: every operation is defined once, and every back end covers all of them.

Adding an operation means one definition in `ncdc/ops/` and one entry in each back end's table; these
tests fail when a back end has no entry for an operation of the registry.
"""

from __future__ import annotations

import dataclasses

import pytest

from ncdc import ir, ops
from ncdc.backend import torch_ops
from ncdc.backend.torch import LOWERINGS
from ncdc.ops.layers import LAYERS, LayerOp, options_of

EVERY_OPERATION = [*ops.OPERATIONS.values(), *LAYERS.values()]


@pytest.mark.parametrize("op", EVERY_OPERATION, ids=lambda op: op.name)
def test_every_operation_has_a_pytorch_lowering(op):
    assert torch_ops.lowers(op), f"the PyTorch back end has no lowering for `{op.name}`"


def _node_classes(cls=ir.Value):
    for sub in cls.__subclasses__():
        yield sub
        yield from _node_classes(sub)


@pytest.mark.parametrize("node", list(_node_classes()), ids=lambda c: c.__name__)
def test_every_node_class_has_a_pytorch_lowering(node):
    assert node in LOWERINGS, f"no PyTorch lowering for IR nodes of class `{node.__name__}`"


def test_the_coverage_check_can_fail():
    """An operation the back end does not know is reported as missing."""
    @dataclasses.dataclass(frozen=True, eq=False)
    class Unknown(ir.Value):
        pass

    assert not torch_ops.lowers(ops.Operation("frobnicate", "map", ir.Map, lambda *a: None))
    assert not torch_ops.lowers(ops.Operation("frobnicate", "structural", Unknown, lambda *a: None))
    assert not torch_ops.lowers(LayerOp("Frobnicate", LAYERS["Linear"].attrs, LAYERS["Linear"].check))


@pytest.mark.parametrize("op", list(LAYERS.values()), ids=lambda op: op.name)
def test_layer_options_are_declared_once_with_their_defaults(op):
    """A layer's options are the fields of its attrs dataclass: frozen, each with its kind."""
    assert dataclasses.is_dataclass(op.attrs) and op.attrs.__dataclass_params__.frozen
    for f in options_of(op.attrs):
        assert f.metadata["option"] in ("size", "offset", "padding", "bool", "number")


def test_names_are_unique_across_builtins_and_layers():
    assert not set(ops.OPERATIONS) & set(LAYERS)
    for alias, target in ops.ALIASES.items():
        assert ops.operation(alias) is ops.OPERATIONS[target]


# ---- the cost back end (`ncdc cost`) ----------------------------------------------------------


@pytest.mark.parametrize("op", EVERY_OPERATION, ids=lambda op: op.name)
def test_every_operation_has_a_cost_rule(op):
    from ncdc.backend.cost import rules

    assert rules.covers(op), f"the cost back end has no rule for `{op.name}`"


@pytest.mark.parametrize("node", list(_node_classes()), ids=lambda c: c.__name__)
def test_every_node_class_has_a_cost_rule(node):
    from ncdc.backend.cost.model import Body

    assert hasattr(Body, "v_" + node.__name__), f"no cost rule for IR nodes of class `{node.__name__}`"


def test_the_cost_coverage_check_can_fail():
    from ncdc.backend.cost import rules

    assert not rules.covers(ops.Operation("frobnicate", "map", ir.Map, lambda *a: None))
    assert not rules.covers(LayerOp("Frobnicate", LAYERS["Linear"].attrs, LAYERS["Linear"].check))


# ---- the drawing back end (`ncdc draw`) --------------------------------------------------------


@pytest.mark.parametrize("op", EVERY_OPERATION, ids=lambda op: op.name)
def test_every_operation_has_a_glyph(op):
    from ncdc.backend.draw import glyphs

    assert glyphs.covers(op), f"the drawing back end has no glyph for `{op.name}`"
    shape, _text = glyphs.glyph(op)
    assert shape in glyphs.SHAPES


@pytest.mark.parametrize("node", list(_node_classes()), ids=lambda c: c.__name__)
def test_every_node_class_is_drawn(node):
    from ncdc.backend.draw.diagram import Body

    assert hasattr(Body, "v_" + node.__name__), f"no drawing for IR nodes of class `{node.__name__}`"


def test_the_glyph_coverage_check_can_fail():
    from ncdc.backend.draw import glyphs

    assert not glyphs.covers(ops.Operation("frobnicate", "map", ir.Map, lambda *a: None))
    assert not glyphs.covers(LayerOp("Frobnicate", LAYERS["Linear"].attrs, LAYERS["Linear"].check))
