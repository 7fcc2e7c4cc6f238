"""torch.export's `dynamic_shapes` for a checked def or module, read off its typed signature.

Every axis whose size is `c * s + b` in one free size `s` (a sequence length `y`, an image side
`16*h`) becomes a dimension of torch.export, `s` a `Dim` shared by every axis that uses it and the
axis a derived dimension of it; a leading batch axis is a `Dim` of its own.  The least value of each
`Dim` is 2 (torch specialises sizes 0 and 1), or more where a precondition of the spec says so
(`H >= 3`: a kernel must fit).  Sizes that hyperparameters fix, products of free sizes (`(h w)`) and
sizes given to a function of numbers (`sqrt(k)`, which torch.export specialises) stay as the example
inputs have them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable

from . import ir
from .sizes import Size, Symbol

LEAST = 2  # torch.export specialises a dimension of size 0 or 1


@dataclass
class Signature:
    """What export needs of a def or module: its inputs' sizes, the values of fixed sizes, the free ones."""

    params: list[ir.Param]
    fixed: dict[Symbol, int]
    least: dict[Symbol, int]  # the least value of each free size
    most: dict[Symbol, int]  # the greatest, where a precondition bounds it (`t <= n_positions`)
    static: set[Symbol]  # free sizes that export specialises (used as numbers)


def signature(program: ir.Program, name: str, hparams: dict[str, int] | None = None) -> Signature:
    """The def or module `name` of a checked program, its module built with `hparams` (else its defaults)."""
    fixed: dict[Symbol, int] = {c.symbol: c.value.constant for c in program.constants}  # type: ignore[misc]
    functions = {f.name: f for f in program.functions}
    modules = {m.name: m for m in program.modules}
    if name in modules:
        module = modules[name]
        given = dict(hparams or {})
        defaults = ir.hparam_sizes(module.hparams, given, fixed)  # `n_inner=4 * n_embd` of those given
        for hp in module.hparams:
            value = given.pop(hp.name, defaults.get(hp.name, hp.default))
            if value is None:
                raise ValueError(f"{name} needs a value for its hyperparameter `{hp.name}`")
            if hp.kind == "size":  # the others (a dropout p, a bool) are no sizes of any shape
                assert isinstance(value, int)
                fixed[hp.symbol] = value
        if given:
            raise ValueError(f"{name} has no hyperparameter `{next(iter(given))}`")
        for member in module.members:
            if isinstance(member, ir.SizeMember):
                value = member.value.evaluate(fixed)
                if value is not None:
                    fixed[member.symbol] = value
        function = module.forward
    elif name in functions:
        function = functions[name]
    else:
        raise ValueError(f"no def or module `{name}` in {program.path if hasattr(program, 'path') else 'the spec'}")
    free = {s for p in function.params for a in p.type.axes for s in a.size.symbols()} - set(fixed)
    # A size given to a function of numbers (`sqrt(k)`: math.sqrt in the generated code) is one that
    # torch.export specialises: it stays as the example input has it.
    numbers = {s for fn in _walk(function, set()) if isinstance(fn, ir.ScalarFn)
               for v in _walk(fn.operand, set()) if isinstance(v, ir.SizeValue) for s in v.size.symbols()}
    free -= numbers
    least = {s: LEAST for s in free}
    most: dict[Symbol, int] = {}
    for c in _conditions(program, function, set()):
        if c.op == "%":
            continue
        big, small = (c.left, c.right) if c.op in (">=", ">") else (c.right, c.left)
        strict = c.op in (">", "<")
        if _free_symbol(big, free) and (bound := small.evaluate(fixed)) is not None:  # a least value
            symbol = next(iter(big.symbols()))
            least[symbol] = max(least[symbol], bound + strict)
        elif _free_symbol(small, free) and (bound := big.evaluate(fixed)) is not None:  # a greatest
            symbol = next(iter(small.symbols()))
            most[symbol] = min(most.get(symbol, bound - strict), bound - strict)
    _widen(function, fixed, least)
    return Signature(function.params, fixed, least, most, numbers - set(fixed))


def _conditions(program: ir.Program, function: ir.Function, visiting: set[str]) -> list[ir.Comparison]:
    """The size conditions that a call of `function` needs to hold, over its own sizes: its
    preconditions of one condition (not those checked for each turn of a loop), and those of every
    def and submodule it calls, carried up through the call's sizes (a positional table's
    `t <= max_len`, checked inside `PositionalEncoding`, is `s <= max_len` of the model that calls
    it on its source `s`, with its own `max_len`)."""
    found = [pre.conditions[0] for pre in function.preconditions if len(pre.conditions) == 1 and not pre.over]
    modules = {m.name: m for m in program.modules}
    for node in _walk(function, set()):
        if not isinstance(node, ir.Call):
            continue
        target = node.target
        if isinstance(target, ir.Repeat):  # one repetition or all in turn: any of them may be the one
            targets = target.instances or ([target.body] if target.body is not None else [])
        else:
            targets = [target]
        for callee in targets:
            if isinstance(callee, ir.Function) and node.callee_kind == "def":
                inner, own = callee, dict(node.instance)
            elif isinstance(callee, ir.Instance) and callee.module in modules:
                module = modules[callee.module]
                inner, own = module.forward, _instance_sizes(module, callee)
                own.update(node.instance)
            else:
                continue
            if inner.name in visiting:  # the checker rejects recursion; never loop here
                continue
            unmapped = set(inner.generics) | set(own)  # the callee's sizes: none may be left
            for c in _conditions(program, inner, visiting | {inner.name}):
                mapped = c.map(lambda size: size.substitute(own.get))  # noqa: B023
                if not mapped.symbols() & unmapped:
                    found.append(mapped)
    return found


def _instance_sizes(module: ir.Module, instance: ir.Instance) -> dict[Symbol, Size]:
    """A submodule's size hyperparameters and derived sizes as the instance has them, over the
    sizes of the module that holds it."""
    sizes: dict[Symbol, Size] = {hp.symbol: arg for hp, arg in zip(module.hparams, instance.args)
                                 if hp.kind == "size" and isinstance(arg, Size)}
    for member in module.members:  # in order: a derived size uses the hyperparameters and those before it
        if isinstance(member, ir.SizeMember):
            sizes[member.symbol] = member.value.substitute(sizes.get)
    return sizes


def _free_symbol(size: Size, free: set[Symbol]) -> bool:
    """Whether `size` is one free size, alone."""
    symbols = size.symbols()
    return len(symbols) == 1 and next(iter(symbols)) in free and size == Size.of(next(iter(symbols)))


def _walk(node, seen: set[int]):
    """Every IR node within a def (its inputs, statements and results), not entering other defs or modules."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item, seen)
    elif dataclasses.is_dataclass(node) and not isinstance(node, (ir.Module, ir.Component, Size)):
        if isinstance(node, ir.Function) and len(seen) > 1:
            return
        yield node
        for f in dataclasses.fields(node):
            yield from _walk(getattr(node, f.name), seen)


def _widen(function: ir.Function, fixed: dict[Symbol, int], least: dict[Symbol, int]) -> None:
    """Raise each free size's least value until every axis that depends on it, inside the def, is at
    least LEAST too (a strided convolution halves an image side: torch would specialise a side of 1)."""
    sizes = [a.size for node in _walk(function, set()) if isinstance(node, ir.TensorType) for a in node.axes]
    for symbol in least:
        mine = [s for s in sizes if symbol in s.symbols()]
        others = {s: max(least[s], 64) for s in least if s is not symbol}
        for value in range(least[symbol], 4097):
            env = {**fixed, **others, symbol: value}
            values = [s.evaluate(env) for s in mine]
            if all(v is None or v >= LEAST for v in values):
                least[symbol] = value
                break


def _linear(size: Size, fixed: dict[Symbol, int]) -> tuple[Symbol, int, int] | None:
    """`(s, c, b)` where `size` is `c * s + b` in one free size `s`, else None."""
    size = size.substitute(lambda atom: Size.of(fixed[atom]) if atom in fixed else None)
    symbols = size.symbols()
    if len(symbols) != 1:
        return None
    symbol = next(iter(symbols))
    coefficient = constant = 0
    for mono, c in size.terms:
        if mono == ():
            constant = c
        elif mono == (symbol,):
            coefficient = c
        else:
            return None
    return (symbol, coefficient, constant) if coefficient > 0 else None


def dynamic_shapes(program: ir.Program, name: str, hparams: dict[str, int] | None = None,
                   batch: bool = True) -> tuple[dict, ...]:
    """For `torch.export.export(model, inputs, dynamic_shapes=...)`: one dict per input, axis
    index to `torch.export.Dim` (a leading batch axis first, if `batch`)."""
    from torch.export import Dim

    sig = signature(program, name, hparams)
    dims: dict[Symbol, object] = {}
    batch_dim = Dim("batch", min=LEAST) if batch else None
    shapes = []
    for p in sig.params:
        shape: dict = {0: batch_dim} if batch_dim is not None else {}
        for i, axis in enumerate(p.type.axes):
            found = _linear(axis.size, sig.fixed)
            if found is None:
                continue
            symbol, c, b = found
            if symbol in sig.static:
                continue
            if symbol not in dims:
                bounds = {"max": sig.most[symbol]} if symbol in sig.most else {}
                dims[symbol] = Dim(_dim_name(symbol.name, dims), min=sig.least[symbol], **bounds)
            dim = dims[symbol]
            if c != 1:
                dim = c * dim  # type: ignore[operator]
            if b:
                dim = dim + b  # type: ignore[operator]
            shape[i + int(batch)] = dim
        shapes.append(shape)
    return tuple(shapes)


def _dim_name(name: str, taken: dict) -> str:
    """A Dim's name: the size's, unless another size took it (two defs' `x`) or it is `batch`."""
    names = {getattr(d, "__name__", "") for d in taken.values()} | {"batch"}
    candidate, n = name, 1
    while candidate in names:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def example_sizes(program: ir.Program, name: str, hparams: dict[str, int] | None = None,
                  batch: int = 3, offset: int = 1) -> list[tuple[int, ...]]:
    """Shapes of inputs that `dynamic_shapes` admits: each free size a distinct value above its least
    (`offset` moves them all, for a second set of sizes), hyperparameters as given."""
    sig = signature(program, name, hparams)
    values = dict(sig.fixed) | {s: 4 for s in sig.static}  # the same in every set: export fixed them
    for i, symbol in enumerate(sorted(sig.least, key=lambda s: s.uid)):
        values[symbol] = sig.least[symbol] + offset + 2 * i  # distinct: export must not see two sizes as one
        values[symbol] = min(values[symbol], sig.most.get(symbol, values[symbol]))
    shapes = []
    for p in sig.params:
        axes = []
        for axis in p.type.axes:
            value = axis.size.evaluate(values)
            if value is None:
                raise ValueError(f"the size {axis.size} of `{p.name}` depends on more than its inputs")
            axes.append(value)
        shapes.append(((batch,) if batch else ()) + tuple(axes))
    return shapes


def example_inputs(program: ir.Program, name: str, hparams: dict[str, int] | None = None,
                   batch: int = 3, offset: int = 1) -> tuple:
    """Random inputs of `example_sizes`, each of its parameter's element type: floats in [0, 1);
    token ids 0 and 1, which every vocabulary holds; masks that keep every other position of their
    last axis, so that no row is wholly kept or wholly dropped, whichever way the spec reads them
    (softmax over a wholly dropped row is NaN, where the spec writes it out)."""
    import torch

    def example(param: ir.Param, shape: tuple[int, ...]):
        if param.type.dtype == ir.INT:
            return torch.randint(0, 2, shape)
        if param.type.dtype == ir.BOOL:
            return (torch.arange(shape[-1]) % 2 == 0).expand(shape).clone() if shape else torch.tensor(True)
        return torch.rand(shape)

    params = signature(program, name, hparams).params
    return tuple(example(p, s) for p, s in zip(params, example_sizes(program, name, hparams, batch, offset)))


def as_module(function: Callable) -> Any:
    """A generated def as an `nn.Module` whose forward calls it, for what takes modules only
    (torch.export, torch.onnx.export, torch.jit.trace)."""
    return _call_class()(function)


@functools.cache
def _call_class() -> type:
    import torch  # here, not at the top: `ncdc check` does not import torch

    class Call(torch.nn.Module):
        """A def as a module: forward calls it."""

        def __init__(self, function: Callable) -> None:
            super().__init__()
            self.function = function

        def forward(self, *inputs):
            return self.function(*inputs)

    return Call


def onnx_translations() -> dict:
    """A `custom_translation_table` for `torch.onnx.export(..., dynamo=True)`: how to write in ONNX
    what its own translations reject in generated code, for export only (eager code is unchanged).

    Fused attention (`scaled_dot_product_attention`) on inputs of any rank: the exporter's
    translation takes only 4-D query, key and value, while generated code calls it on the spec's
    axes (`y k`, with a batch: 3-D).  ONNX's MatMul broadcasts over leading axes, so attention is
    written for every rank as its definition reads: softmax(Q K^T * scale + mask) V (grouped
    heads, `enable_gqa`, repeat each key and value head for its group).

    A row of scores that the mask drops wholly (a causal mask beside padding: every score -inf)
    gets weights of 0, as torch's attention gives it, where ONNX's Softmax would give NaN.

    Einsum whose `...` stand for different numbers of axes in different operands (an unbatched
    `eye` beside a batched input), which torch broadcasts and onnxruntime rejects: the shorter ones
    get leading axes of 1.
    """
    import onnx_ir
    import torch
    from onnxscript import opset18

    op: Any = opset18  # onnxscript's operator stubs do not type-check traced values
    bool_, float_ = onnx_ir.DataType.BOOL, onnx_ir.DataType.FLOAT

    def attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                  scale: float | None = None, enable_gqa: bool = False):
        if dropout_p != 0.0:
            raise NotImplementedError("ONNX export of attention with dropout: export in eval mode")
        rank = len(query.shape)
        if enable_gqa:  # each key and value head serves a group of query heads: repeat it for each
            key, value = (_repeat_heads(query, t) for t in (key, value))
        if scale is None:
            scale = op.Div(op.Constant(value_float=1.0),
                           op.Sqrt(op.Cast(op.Shape(query, start=-1), to=float_)))
        scores = op.Mul(op.MatMul(query, op.Transpose(key, perm=[*range(rank - 2), rank - 1, rank - 2])),
                        op.CastLike(scale, query))
        keep = attn_mask if attn_mask is not None and attn_mask.dtype == bool_ else None
        if is_causal:  # the lower triangle of a (query length, key length) grid
            grid = op.Concat(op.Shape(query, start=-2, end=-1), op.Shape(key, start=-2, end=-1), axis=0)
            ones = op.ConstantOfShape(grid, value=onnx_ir.tensor([1.0], dtype=float_))
            keep = op.Cast(op.Trilu(ones, upper=0), to=bool_)
        if keep is not None:
            scores = op.Where(keep, scores, op.CastLike(op.Constant(value_float=float("-inf")), scores))
        elif attn_mask is not None:  # a float mask: added to the scores
            scores = op.Add(scores, attn_mask)
        # torch's attention gives a row that its mask drops wholly (every score -inf: a causal mask
        # beside padding) weights of 0, where ONNX's Softmax gives 0/0: such rows are 0 here too.
        dropped = op.IsInf(op.ReduceMax(scores, op.Constant(value_ints=[-1]), keepdims=1), detect_positive=0)
        weights = op.Where(dropped, op.CastLike(op.Constant(value_float=0.0), scores), op.Softmax(scores, axis=-1))
        return op.MatMul(weights, value)

    def _repeat_heads(query, t):
        """`t` (..., g, x, k) as (..., h, x, k), each of its g heads repeated h / g times in place."""
        heads, groups = op.Shape(query, start=-3, end=-2), op.Shape(t, start=-3, end=-2)
        lead, tail = op.Shape(t, start=0, end=-3), op.Shape(t, start=-2)
        grown = op.Expand(op.Unsqueeze(t, op.Constant(value_ints=[-3])),
                          op.Concat(lead, groups, op.Div(heads, groups), tail, axis=0))
        return op.Reshape(grown, op.Concat(lead, heads, tail, axis=0))

    def einsum(equation: str, tensors, path=None):
        # onnxruntime's Einsum needs every `...` to stand for as many axes; torch broadcasts them
        # (`...b,...ac` of a batched X and an unbatched eye), so pad the shorter ones with axes of 1.
        inputs = equation.split("->")[0].split(",")
        lead = [len(t.shape) - len(term.replace("...", "")) for t, term in zip(tensors, inputs)]
        most = max((n for n, term in zip(lead, inputs) if "..." in term), default=0)
        padded = [op.Unsqueeze(t, op.Constant(value_ints=list(range(most - n))))
                  if "..." in term and n < most else t for t, n, term in zip(tensors, lead, inputs)]
        return op.Einsum(*padded, equation=equation)

    return {torch.ops.aten.scaled_dot_product_attention.default: attention, torch.ops.aten.einsum.default: einsum}


LEGACY_OPSET = 14  # the first opset of the TorchScript-based exporter's own attention translation


@contextlib.contextmanager
def legacy_onnx_symbolics():
    """Within it, `torch.onnx.export(..., dynamo=False)` (the TorchScript-based exporter) writes fused
    attention as torch computes it: a row of scores that a float mask drops wholly (-inf at every
    key: a causal mask beside padding) gets weights of 0, where the exporter's own translation
    gives Softmax of -inf everywhere, NaN (it guards a bool mask's rows so, not a float mask's).
    Grouped heads (`enable_gqa`), which the exporter's own translation rejects, repeat each key and
    value head for its group.  The exporter's translation is restored on leaving."""
    import torch
    from torch.onnx import register_custom_op_symbolic, unregister_custom_op_symbolic

    def attention(g, query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        from torch.onnx import symbolic_helper

        dropout_p = symbolic_helper._maybe_get_const(dropout_p, "f")
        is_causal = symbolic_helper._maybe_get_const(is_causal, "b")
        enable_gqa = symbolic_helper._maybe_get_const(enable_gqa, "b")
        if dropout_p and dropout_p != 0.0:
            raise NotImplementedError("ONNX export of attention with dropout: export in eval mode")
        rank = symbolic_helper._get_tensor_rank(key)
        if rank is None:
            raise NotImplementedError("ONNX (legacy) export of attention on inputs of unknown rank")

        def axes(t, start, end):  # its sizes there: Slice of Shape (Shape's own start and end crash
            ends = [g.op("Constant", value_t=torch.tensor([i])) for i in (start, end)]  # shape inference)
            return g.op("Slice", g.op("Shape", t), *ends)

        def repeat_heads(t):  # (..., g, x, k) as (..., h, x, k), each of the g heads h / g times in place
            lead, groups, tail = axes(t, 0, rank - 3), axes(t, -3, -2), axes(t, -2, rank)
            heads = axes(query, -3, -2)
            grown = g.op("Expand", g.op("Unsqueeze", t, g.op("Constant", value_t=torch.tensor([rank - 2]))),
                         g.op("Concat", lead, groups, g.op("Div", heads, groups), tail, axis_i=0))
            return g.op("Reshape", grown, g.op("Concat", lead, heads, tail, axis_i=0))

        if enable_gqa:  # each key and value head serves a group of query heads
            key, value = repeat_heads(key), repeat_heads(value)
        perm = [*range(rank - 2), rank - 1, rank - 2]
        scores = g.op("MatMul", query, g.op("Transpose", key, perm_i=perm))

        if symbolic_helper._is_none(scale):  # 1 / sqrt(k)
            last = axes(query, -1, rank)
            scale = g.op("Reciprocal", g.op("Sqrt", g.op("Cast", last, to_i=1)))  # 1: float
        else:
            scale = g.op("Constant", value_t=torch.tensor(symbolic_helper._maybe_get_const(scale, "f")))
        scores = g.op("Mul", scores, g.op("CastLike", scale, scores))
        minus_inf = g.op("CastLike", g.op("Constant", value_t=torch.tensor(float("-inf"))), scores)
        zero = g.op("CastLike", g.op("Constant", value_t=torch.tensor(0.0)), scores)
        keep = None
        if is_causal:  # the lower triangle of a (query length, key length) grid
            grid = g.op("Concat", axes(query, -2, -1), axes(key, -2, -1), axis_i=0)
            ones = g.op("ConstantOfShape", grid, value_t=torch.tensor([1.0]))
            keep = g.op("Cast", g.op("Trilu", ones, upper_i=0), to_i=9)  # 9: bool
        elif not symbolic_helper._is_none(attn_mask):
            if attn_mask.type().scalarType() == "Bool":
                keep = attn_mask
            else:  # a float mask: added to the scores
                scores = g.op("Add", scores, attn_mask)
        if keep is not None:
            scores = g.op("Where", keep, scores, minus_inf)
        if g.opset >= 18:
            top = g.op("ReduceMax", scores, g.op("Constant", value_t=torch.tensor([-1])), keepdims_i=1)
        else:
            top = g.op("ReduceMax", scores, axes_i=[-1], keepdims_i=1)
        dropped = g.op("IsInf", top, detect_positive_i=0)
        weights = g.op("Where", dropped, zero, g.op("Softmax", scores, axis_i=-1))
        return g.op("MatMul", weights, value)

    register_custom_op_symbolic("aten::scaled_dot_product_attention", attention, LEGACY_OPSET)
    try:
        yield
    finally:
        unregister_custom_op_symbolic("aten::scaled_dot_product_attention", LEGACY_OPSET)
