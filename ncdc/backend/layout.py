"""Layout planning for the torch back end: a physical order for the axes of some values, chosen so
that the copies fall on weights (a few thousand numbers) rather than on activations (batch x
sequence x width).

A value's *logical* order is its type's; its *physical* order is the order of its axes in the
tensor the generated code holds, a permutation of the logical one (`order[i]` is the logical axis at
physical position i; leading batch axes stay in front).  Two producers can choose theirs for free:

- a `Linear` with several output axes (`Linear[m -> k h]`): taking its weight's rows in another order
  puts its output axes in that order, at the cost of permuting the weight;
- a lifted call: left as the callee returns it, its lifted axes sit before its own ones
  (attention over the heads returns `h y k`), where putting them back costs a move.

A producer is planned only where its one consumer then needs no copy of the activation:

- attention (plain, masked, causal, grouped-query, with dropout: each one kernel call) wants its
  Q, K and V with the head axis innermost untouched (`h y k` with k of unit stride): a
  `Linear[m -> k h]` feeding it produces `y h k` instead of `y k h`, and the lift to `h y k` is a
  view;
- a `Linear` with several input axes (`Linear[k h -> m]`) takes them in any order by permuting its
  weight's columns: fed by a lifted call, it takes the call's result as the callee left it.

The plan is the back end's alone: it reads the typed IR and leaves it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir
from .fuse import fuse_attention, grouped_attention


@dataclass
class Plan:
    orders: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id(value) -> its physical order
    stored: set[ir.Local] = field(default_factory=set)  # wires held in their value's physical order
    wires: dict[ir.Local, tuple[int, ...]] = field(default_factory=dict)  # a stored wire -> its physical order


@dataclass(frozen=True)
class Kernel:
    """A callee (a def, or a module's forward) whose body is one fused attention of its inputs:
    `roles` are the positions of its query, key and value among them, then of its mask, if any."""

    attention: ir.Attention
    roles: tuple[int, ...]


def attention_kernel(f: ir.Function) -> Kernel | None:
    """For a body that is one attention of its inputs, its kernel; its calls become the kernel's
    call: the checker has proved the arguments' types at the call, so the callee's own checks are
    redundant there.  Masked, causal and dropout attention qualify; a mask that the kernel must join
    with the causal one (built from the callee's sizes) keeps the callee's own call."""
    body = fuse_attention(f.body)
    if len(body) != 1 or not isinstance(body[0], ir.Return) or len(body[0].values) != 1 \
            or f.preconditions or f.boxes:
        return None
    node = body[0].values[0]
    if not isinstance(node, ir.Attention) or (node.mask is not None and node.causal):
        return None
    if node.scale is not None and node.scale[1] is not None and not isinstance(node.scale[1], ir.Const):
        return None  # a scale in the callee's sizes
    params: list[ir.Local] = list(f.params)
    reads = [node.query, node.key, node.value] + ([node.mask] if node.mask is not None else [])
    roles = [params.index(r.local) for r in reads if isinstance(r, ir.Read) and r.local in params]
    if len(roles) != len(reads) or len(set(roles)) != len(params):
        return None
    return Kernel(node, tuple(roles))


def callee_function(call: ir.Call, modules: dict[str, ir.Module] | None) -> ir.Function | None:
    """The body a call runs, where it may be a kernel: a def's, or a submodule's forward (`modules`:
    the spec's, by name)."""
    if call.callee_kind == "def":
        return call.target
    target = call.target
    if call.callee_kind == "component" and isinstance(target, ir.Instance) and modules and target.module in modules:
        return modules[target.module].forward
    return None


def callee_kernel(call: ir.Call, modules: dict[str, ir.Module] | None) -> Kernel | None:
    """The kernel a call becomes: of a def, or of a submodule whose forward is one attention, such as
    one with a `Dropout` on its weights."""
    f = callee_function(call, modules)
    return None if f is None else attention_kernel(f)


def physical_order(plan: Plan, arg: ir.Value) -> tuple[int, ...] | None:
    """The physical order in which the generated code holds an argument (None: the logical one)."""
    if isinstance(arg, ir.Read):
        return plan.wires.get(arg.local)
    return plan.orders.get(id(arg)) if isinstance(arg, ir.Call) else None


def linear_weight_order(plan: Plan, call: ir.Call) -> tuple[list[int], list[int]]:
    """For a Linear call: the order of its input axes as its input arrives (its weight's columns)
    and of its output axes as the plan lays them out (its rows).  Where either is not sorted, the
    generated code applies a permuted copy of the weight (made again in backward, not kept)."""
    layout = call.layouts[0]
    order = physical_order(plan, call.arguments[0])
    current = list(order) if order is not None else list(range(layout.rank))
    columns = [layout.own.index(a) for a in current if a in layout.own]
    assert isinstance(call.type, ir.TensorType)
    n_out = call.target.attrs.outputs.rank
    planned = plan.orders.get(id(call))
    rows = list(range(n_out)) if planned is None else [i - (call.type.rank - n_out) for i in planned[-n_out:]]
    return columns, rows


def weight_permuted(plan: Plan, call: ir.Call) -> bool:
    columns, rows = linear_weight_order(plan, call)
    return columns != sorted(columns) or rows != sorted(rows)


def is_linear(node: ir.Value) -> bool:
    return (isinstance(node, ir.Call) and node.callee_kind == "component" and isinstance(node.target, ir.Layer)
            and node.target.op == "Linear")


def arranged(call: ir.Call, layout: ir.Layout) -> list | None:
    """The logical axes of an argument in the order the call arranges them (None where the call
    inserts axes the argument lacks)."""
    positions = layout.lifted
    target = [positions.get(label) for label in call.before] + list(layout.lead) + \
        [positions.get(label) for label in call.after] + list(layout.own)
    return None if None in target else target


def raw_order(call: ir.Call) -> tuple[int, ...]:
    """The physical order of a lifted call's result left as the callee returns it: its lifted axes
    that belong after the callee's own ones sit before them."""
    assert isinstance(call.type, ir.TensorType)
    rank, start, after = call.type.rank, len(call.before) + call.lead, len(call.after)
    own = rank - start - after
    return tuple(range(start)) + tuple(range(start + own, rank)) + tuple(range(start, start + own))


def plan_layouts(body: list, modules: dict[str, ir.Module] | None = None) -> Plan:
    """The plan for one (fused) body; the back end and the cost model both read it.  `modules`, the
    spec's by name, tells which submodules are attention kernels.  Loop bodies are left as written:
    their wires may carry values between turns."""
    plan = Plan()
    top = [stmt for stmt in body if not isinstance(stmt, ir.For)]
    readers = ir.readers(body)
    looped = set(ir.producers([s for s in body if isinstance(s, ir.For)]))
    producers = {local: stmt for local, stmt in ir.producers(top).items()
                 if len(stmt.targets) == 1 and local not in looped}

    def source(arg: ir.Value) -> tuple[ir.Value, ir.Local | None]:
        """The value an argument is, looking through a wire assigned once and read only there."""
        if isinstance(arg, ir.Read) and arg.local in producers and len(readers.get(arg.local, ())) == 1:
            return producers[arg.local].value, arg.local
        return arg, None

    def choose(node: ir.Value, local: ir.Local | None, order: tuple[int, ...]) -> None:
        if order != tuple(range(len(order))) and id(node) not in plan.orders:
            plan.orders[id(node)] = order
            if local is not None:
                plan.stored.add(local)
                plan.wires[local] = order

    for node in ir.walk(top):
        if not isinstance(node, ir.Call):
            continue
        if grouped_attention(node) is not None or callee_kernel(node, modules) is not None:
            for arg, layout in zip(node.arguments, node.layouts):
                target = arranged(node, layout)
                value, local = source(arg)
                if target is None or not isinstance(value, ir.Call) or not is_linear(value) or value.after \
                        or not isinstance(value.type, ir.TensorType):
                    continue
                rank, n_out = value.type.rank, value.target.attrs.outputs.rank
                outs = range(rank - n_out, rank)
                if n_out > 1 and target[-1] in outs and target[-1] != rank - 1:
                    choose(value, local, tuple(range(rank - n_out)) + tuple(a for a in target if a in outs))
        elif is_linear(node) and node.target.attrs.inputs.rank > 1:  # a Linear takes its inputs in any order
            value, local = source(node.arguments[0])
            if isinstance(value, ir.Call) and value.after and not is_linear(value):
                choose(value, local, raw_order(value))
    return plan
