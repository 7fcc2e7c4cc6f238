"""The operation registry: every built-in operation and learned layer of the language, once.

An operation is its name, the IR node class it types to, and its typing rule; a learned layer adds
its options (a dataclass with defaults, in `layers`).  Back ends keep their own tables keyed by the
operation's name, in their own folders, and a test walks this registry to check that each of them
covers every operation.
"""

from __future__ import annotations

from ..nodes import frozen
from .. import ir
from . import experts, functions, masks, positions, structural
from .layers import LAYERS, LayerOp

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Callable


@frozen
class Operation:
    """A built-in operation: `check(cx, name, brackets, call)` types a call of it in a body (`cx` is
    the body's checker).  `node` is the IR class it gives; `on_numbers` is the class it gives when
    applied to a number, for maps that also apply to numbers (`sqrt(k)`)."""

    name: str
    family: str  # "map", "normalise", "reduce", "compare", "structural"
    node: type
    check: Callable
    on_numbers: type | None = None
    accepts: tuple[str, ...] = (ir.FLOAT,)  # the element types of the tensors it takes


def _operations() -> dict[str, Operation]:
    numeric, every = (ir.FLOAT, ir.INT), ir.DTYPES
    ops = [Operation(name, "map", ir.Map, functions.check_map, ir.ScalarFn if name in functions.ON_NUMBERS else None,
                     numeric if name in functions.ON_INTEGERS else (ir.FLOAT,))
           for name in functions.MAPS]
    ops += [Operation(name, "normalise", ir.Normalise, functions.check_normalise) for name in functions.NORMALISERS]
    ops += [Operation(name, "reduce", ir.Reduce, functions.check_reduce,
                      accepts=numeric if name in functions.ON_INTEGERS else (ir.FLOAT,))
            for name in functions.REDUCTIONS]
    ops += [Operation("einsum", "structural", ir.Einsum, structural.check_einsum),
            Operation("rearrange", "structural", ir.Rearrange, structural.check_einsum, accepts=every),
            Operation("flatten", "structural", ir.Flatten, structural.check_flatten, accepts=every),
            Operation("concat", "structural", ir.Concat, structural.check_concat, accepts=every),
            Operation("eye", "structural", ir.Eye, structural.check_eye)]
    # Comparisons are operators (`A < B`), named by their symbol; `where` and `tril` are called.
    ops += [Operation(op, "compare", ir.Compare, masks.check_compare,
                      accepts=every if op in masks.EQUALITIES else numeric) for op in masks.COMPARISONS]
    ops += [Operation("where", "structural", ir.Where, masks.check_where, accepts=every),
            Operation("tril", "structural", ir.Tril, masks.check_tril),
            Operation("arange", "structural", ir.Arange, positions.check_arange)]
    ops += [Operation("topk", "structural", ir.TopK, experts.check_topk, accepts=numeric),
            Operation("route", "structural", ir.Route, experts.check_route, accepts=every)]
    return {op.name: op for op in ops}


OPERATIONS: dict[str, Operation] = _operations()
ALIASES = {"η": "eye"}  # the paper's unit η


def operation(name: str) -> Operation | None:
    """The built-in operation called `name` (or one of its aliases), if there is one."""
    return OPERATIONS.get(ALIASES.get(name, name))


def is_builtin(name: str) -> bool:
    """True for names the language reserves: built-in operations, learned layers and `seq`."""
    return operation(name) is not None or name in LAYERS or name == "seq"


__all__ = ["ALIASES", "LAYERS", "LayerOp", "OPERATIONS", "Operation", "is_builtin", "operation"]
