"""The PyTorch back end: typed IR to plain `torch` source, through the Jinja templates in templates/.

Each IR node class has one lowering (the `LOWERINGS` registry) that returns a Python expression and
its precedence; each learned layer has one constructor (`torch_ops.CONSTRUCTORS`) and parts have one
call lowering (`_component_call`).  Layout (permutes, reshapes, inserted axes) is decided here from the
static axis order of every wire: axis names never reach run time.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import jinja2

from .. import __version__, ir
from ..ir import TensorType
from ..names import GENERATED_GLOBALS, Namespace, python_name
from ..ops.layers import LAYERS, AdaptivePoolAttrs, PoolAttrs
from ..sizes import Size, Symbol, format_size
from ..resources import data_dir
from . import einsum_path
from .fuse import fuse_attention, grouped_attention
from .layout import (Kernel, Plan, attention_kernel, callee_function, is_linear,
                     linear_weight_order, plan_layouts)
from .sizes import ADD, ATOM, MUL, POWER, UNARY, size_code, wrap
from .torch_ops import COMPARISONS, CONSTRUCTORS, MAPS, NORMALISERS, ON_NUMBERS, REDUCTIONS, string_code, value_code

LINE_LENGTH = 110  # longer lists of parts are written one part a line
STUB_SIZE = 8  # a stub's output sizes that its inputs do not fix
_PYTHON_KINDS = {"size": "int", "float": "float", "bool": "bool", "choice": "str"}
HELPER_NAMES = ("_fail", "_as_int", "_check_rank", "_check_shape", "_apply_box", "_over_batch", "_in_turn",
                "_insert_axis", "_with_batch", "_cat", "_token_ids", "_route", "_TransposedLinear", "_linear_permuted")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_dir("templates"))), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
                              undefined=jinja2.StrictUndefined)


def _render(template: str, **values) -> str:
    return _env().get_template(template).render(**values).rstrip("\n")


def safe_text(text: str) -> str:
    """Text from the spec made safe inside a comment or docstring: one line, no escapes, no quotes."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            out.append("?")
        else:
            out.append(ch)
    return "".join(out).replace('"', '\\"')


def generate(program: ir.Program, *, stubs: bool = False, cost_docstrings: bool = False) -> str:
    """PyTorch source for a checked program; with `cost_docstrings`, each module's and def's docstring
    also gives its cost formulas (docs/cost.md)."""
    costs = None
    if cost_docstrings:
        from .cost.docstrings import cost_lines
        costs = cost_lines(program)
    return Generator(program, stubs, costs).source()


class Generator:
    def __init__(self, program: ir.Program, stubs: bool, costs: dict[str, list[str]] | None = None):
        self.program = program
        self.stubs = stubs
        self.costs = costs or {}
        self.source_name = safe_text(program.path)
        self.short_name = safe_text(os.path.basename(program.path))
        self.helpers: set[str] = set()
        self.uses_math = False
        self.constants = {c.symbol: python_name(c.name) for c in program.constants}
        self.top_names = {python_name(n) for n in program.order} | set(self.constants.values())
        self.top_frozen = frozenset(self.top_names)  # shared by the namespaces of every function
        self.reserved = frozenset(GENERATED_GLOBALS | self.top_names | set(HELPER_NAMES))
        self.boxes = {b.name: b for b in program.boxes}
        self.functions = {f.name: f for f in program.functions}
        self.modules = {m.name: m for m in program.modules}
        self.kernels: dict[int, Kernel | None] = {}  # id(callee's function) -> its attention kernel

    def kernel(self, call: ir.Call) -> Kernel | None:
        """The attention kernel a call of a def or a submodule becomes (None: it stays a call)."""
        f = callee_function(call, self.modules)
        if f is None:
            return None
        if id(f) not in self.kernels:
            self.kernels[id(f)] = attention_kernel(f)
        return self.kernels[id(f)]

    def where(self, span) -> str:
        if span is None:
            return ""
        lines = str(span.line) if span.end_line == span.line else f"{span.line}-{span.end_line}"
        source = getattr(span, "source", None)
        name = self.short_name if source is None or source.path == self.program.path else \
            safe_text(os.path.basename(source.path))  # an imported definition's own spec
        return f"[{name}:{lines}]"

    def source(self) -> str:
        definitions = []
        for name in self.program.order:
            if name in self.functions:
                definitions.append(self.function(self.functions[name]))
            elif name in self.modules:
                definitions.append(self.module(self.modules[name]))
        stub_code = [self.stub(b) for b in self.program.boxes] if self.stubs else []
        # `Callable` in the signatures of box parameters and of the helpers that take a function
        uses_callable = bool(self.helpers & {"_route", "_linear_permuted"}) or \
            any(f.boxes for f in self.program.functions) or any(m.boxes for m in self.program.modules)
        if self.helpers & {"_check_rank", "_check_shape", "_apply_box"}:
            self.helpers |= {"_fail", "_as_int"}  # their errors
        if "_token_ids" in self.helpers:
            self.helpers.add("_fail")
        macros = _env().get_template("helpers.py.j2").module
        helpers = [getattr(macros, name[1:])().strip() for name in HELPER_NAMES if name in self.helpers]
        return _render("module.py.j2", version=__version__, source=self.source_name, uses_math=self.uses_math,
                       uses_operator="_as_int" in self.helpers, uses_callable=uses_callable, helpers=helpers,
                       stubs=stub_code, definitions=definitions,
                       constants=[(python_name(c.name), c.value.constant) for c in self.program.constants]) + "\n"

    def bind_sizes(self, wires, generics, names: dict, ns: Namespace, only_new: bool = False) -> list[str]:
        """Read generic sizes off the shapes of wires: `y, k = Q.shape[-2:]`, `h = X.shape[-1] // 16`."""
        return _size_reads(wires, self.name_sizes(wires, generics, names, ns, only_new))

    def name_sizes(self, wires, generics, names: dict, ns: Namespace, only_new: bool = False) -> list[tuple]:
        """Name the generic sizes read off the shapes of wires: (source, divisor code or None) each."""
        wanted = [g for g in generics if g not in names]
        if only_new:  # sizes that only a box's output fixes are read where they first appear
            wanted += [a.size.atom for _, t in wires for a in t.axes
                       if isinstance(a.size.atom, Symbol) and a.size.atom not in names and a.size.atom not in wanted]
        named = []
        for source in ir.size_sources([t for _, t in wires], wanted, set(names)):
            divisor = None if source.divisor is None else wrap(*size_code(source.divisor, names.__getitem__), MUL + 1)
            names[source.symbol] = ns(source.symbol.name)
            named.append((source, names[source.symbol], divisor))
        return named

    # ---- preconditions -------------------------------------------------------------------------

    def precondition(self, pre: ir.Precondition, names: dict, ns, at_call: bool = False) -> list[str]:
        """`if <violated>: raise ValueError(...)`, in loops over the indexes it ranges over: the
        message names the spec line, the condition and the sizes it got.  One checked `at_call`
        (in forward, of sizes read off the inputs) raises through `_fail`, for torch.compile."""
        names = dict(names)
        lines, indent = [], ""
        for loop in pre.over:
            var = ns(loop.var.name)
            start, stop = size_code(loop.start, names.__getitem__)[0], size_code(loop.stop + 1, names.__getitem__)[0]
            names[loop.var] = var
            lines.append(f"{indent}for {var} in range({start}, {stop}):")
            indent += "    "
        violated = " and ".join(_violated(c, names) for c in pre.conditions)
        symbols = sorted(pre.symbols() | {loop.var for loop in pre.over}, key=lambda s: (s.name, s.uid))
        def value(name: str) -> str:  # a size read off an input may be symbolic under torch.compile
            return name if not at_call or name.startswith("self.") else f"_as_int({name})"

        got = ", ".join(f"{s.name} = {{{value(names[s])}}}" for s in symbols
                        if s in names and s not in self.constants)
        text = safe_text(f"{self.where(pre.span)} {pre}").replace("{", "{{").replace("}", "}}")
        message = f'f"{text}, got {got}"' if got else f'"{safe_text(f"{self.where(pre.span)} {pre}")}"'
        lines.append(f"{indent}if {violated}:")
        if at_call:
            self.helpers.update({"_fail", "_as_int"} if "_as_int(" in message else {"_fail"})
            lines.append(f"{indent}    _fail(ValueError, {message})")
        else:
            lines.append(f"{indent}    raise ValueError({message})")
        return lines

    def value_checks(self, hp: ir.HParam, m: ir.Module) -> list[str]:
        """`__init__` checks a hyperparameter that is not a size: its kind, its choices, and the
        bounds its parts need (Dropout's p in [0, 1])."""
        name = python_name(hp.name)
        where = self.where(hp.span)

        def message(text: str) -> str:
            return safe_text(f"{where} {m.name}: {text}").replace("{", "{{").replace("}", "}}")

        if hp.kind == "bool":
            return [f"if not isinstance({name}, bool):",
                    f'    raise TypeError(f"{message(f"`{hp.name}` is a bool")}, got {{{name}!r}}")']
        if hp.kind == "choice":
            choices = ", ".join(string_code(c) for c in hp.choices)
            shown = ", ".join(f"'{c}'" for c in hp.choices)
            return [f"if {name} not in ({choices}{',' if len(hp.choices) == 1 else ''}):",
                    f'    raise ValueError(f"{message(f"`{hp.name}` is one of {shown}")}, got {{{name}!r}}")']
        lines = [f"if isinstance({name}, bool) or not isinstance({name}, (int, float)):",
                 f'    raise TypeError(f"{message(f"`{hp.name}` is a number")}, got {{{name}!r}}")']
        for low, high, reason in hp.bounds:
            text = message(f"{reason}: `{hp.name}` must be between {low} and {high}")
            lines += [f"if not {low!r} <= {name} <= {high!r}:",
                      f'    raise ValueError(f"{text}, got {{{name}!r}}")']
        return lines

    # ---- boxes --------------------------------------------------------------------------------

    def box_parameters(self, boxes: list[str]) -> list[str]:
        if not boxes:
            return []
        default = (lambda b: f" = _stub_{python_name(b)}") if self.stubs else (lambda b: "")
        return ["*"] + [f"{python_name(b)}: Callable{default(b)}" for b in boxes]

    def stub(self, box: ir.Box) -> str:
        ns = Namespace(base=self.reserved)
        params = [ns(f"x{i}") for i in range(len(box.inputs))]
        names: dict[Symbol, str] = dict(self.constants)
        body = self.bind_sizes(list(zip(params, box.inputs)), box.generics, names, ns)
        # Sizes that the inputs do not fix (the box's own output sizes) become keyword options.
        free = [g for g in box.generics if g not in names]
        for g in free:
            names[g] = ns(g.name)
        first = params[0] if params else None
        like = f", dtype={first}.dtype, device={first}.device" if first else ""
        outs = []
        for t in box.outputs:
            shape = ", ".join(size_code(a.size, names.__getitem__)[0] for a in t.axes)
            outs.append(f"torch.rand(({shape}{',' if len(t.axes) == 1 else ''}){like})")
        body.append("return " + ", ".join(outs))
        options = ["*"] + [f"{names[g]}: int = {STUB_SIZE}" for g in free] if free else []
        signature = safe_text(box.name + " : " + ir.signature_text(box.inputs, box.outputs))
        return _render("stub.py.j2", name=f"_stub_{python_name(box.name)}", box=signature,
                       params=", ".join([f"{p}: Tensor" for p in params] + options),
                       returns=_returns(len(box.outputs)), body=body)

    # ---- functions and modules ------------------------------------------------------------------

    def function(self, f: ir.Function) -> str:
        emitter = Emitter(self, f, None)
        body = emitter.body()
        params = [f"{emitter.ns(p.name)}: Tensor" for p in f.params] + self.box_parameters(f.boxes)
        doc = f"{f.name} : {ir.signature_text(f.inputs, f.outputs)}    {self.where(f.header)}"
        return _render("function.py.j2", name=python_name(f.name), params=", ".join(params),
                       returns=_returns(len(f.results)), doc=self.docstring(f.name, doc), body=body)

    def docstring(self, name: str, first: str) -> str:
        """A definition's docstring text: its first line, then its costs when asked for (indented for
        a docstring at 4 spaces)."""
        if name not in self.costs:
            return safe_text(first)
        lines = [safe_text(first), "", *("    " + safe_text(line) for line in self.costs[name])]
        return "\n".join(lines) + "\n    "

    def module(self, m: ir.Module) -> str:
        hparams = []
        for hp in m.hparams:
            if hp.default_size is not None:  # None (or nothing) takes the default, as a configuration's None
                hparams.append(f"{python_name(hp.name)}: {_PYTHON_KINDS[hp.kind]} | None = None")
                continue
            default = "" if hp.default is None else f" = {value_code(hp.default, str)}"
            hparams.append(f"{python_name(hp.name)}: {_PYTHON_KINDS[hp.kind]}{default}")
        ctor = ["self", *hparams, *self.box_parameters(m.boxes)]
        init_names: dict[Symbol, str] = dict(self.constants)
        init_names.update({hp.symbol: python_name(hp.name) for hp in m.hparams if hp.kind == "size"})
        init = []
        for hp in m.hparams:
            if hp.default_size is not None:
                name = python_name(hp.name)
                init += [f"if {name} is None:", f"    {name} = {size_code(hp.default_size, init_names.__getitem__)[0]}"]
        init += [line for hp in m.hparams if hp.kind != "size" for line in self.value_checks(hp, m)]
        if m.hparams:
            names = [python_name(hp.name) for hp in m.hparams]
            init.append(", ".join(f"self.{n}" for n in names) + " = " + ", ".join(names))
        for b in m.boxes:
            init.append(f"self.{python_name(b)} = {python_name(b)}")
        code: str | Parts
        # Derived sizes are locals of __init__ too: one named `super` or `range` must not hide what
        # __init__ calls, so the local (not the attribute) gets a free name.
        locals_ = Namespace({"self", *init_names.values(), *(python_name(b) for b in m.boxes)}, base=self.reserved)
        pending = list(m.preconditions)
        defined = set(init_names)

        def check_known() -> None:  # each precondition as soon as the sizes it uses are known
            for pre in [p for p in pending if p.symbols() <= defined]:
                pending.remove(pre)
                init.extend(self.precondition(pre, init_names, Namespace(init_names.values(), base=self.top_frozen)))

        for member in m.members:
            check_known()
            if isinstance(member, ir.SizeMember):
                name, local = python_name(member.name), locals_(member.name)
                code, _ = size_code(member.value, init_names.__getitem__)
                init.append(f"self.{name} = {local} = {code}")
                init_names[member.symbol] = local
                defined.add(member.symbol)
            elif isinstance(member, ir.Buffer):
                init.append(self.buffer(member, m))
            else:
                code = self.constructor(member, init_names, m)
                target = f"self.{python_name(member.name)}"
                where = self.where(member.span)
                if isinstance(member, ir.Repeat) and member.start.constant != 0:
                    where = f"{_numbering(member)}  {where}".rstrip()
                line = f"{target} = {code}  # {where}"
                if len(line) > LINE_LENGTH and isinstance(code, Parts):
                    line = code.lines(target, where)
                init.append(line)
        check_known()
        emitter = Emitter(self, m.forward, m)
        body = emitter.body()
        params = ["self"] + [f"{emitter.ns(p.name)}: Tensor" for p in m.forward.params]
        signature = ir.signature_text(m.forward.inputs, m.forward.outputs)
        args = ", ".join(hp.name for hp in m.hparams)
        doc = f"{m.name}({args}) : {signature}    {self.where(m.header)}"
        return _render("class.py.j2", name=python_name(m.name), doc=self.docstring(m.name, doc),
                       ctor_params=", ".join(ctor), init=init or ["pass"], params=", ".join(params),
                       returns=_returns(len(m.forward.results)),
                       forward_doc=safe_text(f"forward : {signature}    {self.where(m.forward.header)}"), body=body)

    def buffer(self, b: ir.Buffer, m: ir.Module) -> str:
        """`buffer pe = ...`: computed once, by the spec's own expression, and registered as a buffer
        that is not persistent (no state_dict entry: it is no state) but moves with `.to()`."""
        code, _ = Emitter(self, ir.Function(b.name, [], [], []), m).expr(b.value)
        return f'self.register_buffer("{python_name(b.name)}", {code}, persistent=False)  # {self.where(b.span)}'

    # ---- learned parts: constructors ----------------------------------------------------------

    def constructor(self, c: ir.Component, names: dict, m: ir.Module, in_seq: bool = False) -> str | Parts:
        def size(s: Size) -> str:
            return size_code(s, names.__getitem__)[0]

        if isinstance(c, ir.Layer):
            if c.op == "Linear" and c.attrs.transposed:
                self.helpers.add("_TransposedLinear")
            return CONSTRUCTORS[c.op](c.attrs, size)
        if isinstance(c, ir.Instance):
            target = self.modules[c.module]
            args = [value_code(a, size) for a in c.args]
            args += [f"{python_name(b)}={python_name(b)}" for b in target.boxes]
            return f"{python_name(target.name)}({', '.join(args)})"
        if isinstance(c, ir.Seq):
            return Parts("nn.Sequential(", [str(self.constructor(p, names, m, in_seq=True)) for p in c.parts], ")")
        assert isinstance(c, ir.Repeat)
        # Inside `seq` the repetitions are applied by nn.Sequential itself; elsewhere they are a
        # ModuleList that `forward` applies in turn or indexes.

        def repeated(body: str, index: str, bounds: str) -> str | Parts:
            loop = f"{body} for {index} in range({bounds})"
            return Parts("nn.Sequential(", [f"*({loop})"], ")") if in_seq else f"nn.ModuleList({loop})"

        if c.instances is not None:
            if all(ir.construction(i) == ir.construction(c.instances[0]) for i in c.instances):
                return repeated(str(self.constructor(c.instances[0], names, m)), "_", str(len(c.instances)))
            codes = [str(self.constructor(i, names, m)) for i in c.instances]
            return Parts("nn.Sequential(", codes, ")") if in_seq else Parts("nn.ModuleList([", codes, "])")
        assert c.body is not None and c.index is not None
        index = Namespace(names.values(), base=self.top_frozen)(c.index.name)
        body = str(self.constructor(c.body, {**names, c.index: index}, m))
        if c.index not in ir.component_symbols(c.body):
            index = "_"
        return repeated(body, index, f"{size(c.start)}, {size(c.stop + 1)}")


@dataclass(frozen=True)
class Parts:
    """A constructor of several parts, `nn.Sequential(a, b)`: written on one line, or one part a line
    when long."""

    opening: str
    parts: list[str]
    closing: str

    def __str__(self) -> str:
        return self.opening + ", ".join(self.parts) + self.closing

    def lines(self, target: str, where: str) -> str:
        """The assignment of this constructor to `target`, one part a line (continuation lines
        indented for the __init__ body)."""
        inner = "".join(f"\n{' ' * 12}{part}," for part in self.parts)
        return f"{target} = {self.opening}  # {where}{inner}\n{' ' * 8}{self.closing}"


def _numbering(r: ir.Repeat) -> str:
    """How the spec's numbers of repetitions map to the ModuleList's (which count from 0)."""
    name, start, stop = r.name, format_size(r.start), format_size(r.stop)
    last = format_size(r.stop - r.start)
    return safe_text(f"{name}[{start}..{stop}] of the spec are {name}[0..{last}] here")


_NEGATED = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}


def _violated(c: ir.Comparison, names: dict) -> str:
    """Python that is true when the comparison does not hold."""
    (left, lprec), (right, rprec) = (size_code(s, names.__getitem__) for s in (c.left, c.right))
    if c.op == "%":
        return f"{wrap(left, lprec, MUL)} % {wrap(right, rprec, MUL + 1)} != 0"
    return f"{left} {_NEGATED[c.op]} {right}"


def _wrong_dtype(name: str, dtype: str) -> str:
    """Python that is true when the elements of `name` are not of the spec's element type."""
    if dtype == ir.FLOAT:
        return f"not {name}.is_floating_point()"
    if dtype == ir.BOOL:
        return f"{name}.dtype != torch.bool"
    return f"{name}.is_floating_point() or {name}.dtype == torch.bool"


def _check_lines(conditions: list[str], calls: list[str]) -> list[str]:
    """`if <any condition>:` then the helper calls that raise the right error."""
    return [f"if {' or '.join(conditions)}:"] + ["    " + call for call in calls]


def _dtype_option(t: TensorType) -> str:
    """The element type argument of a shape check, where it is not the default (float)."""
    return "" if t.dtype == ir.FLOAT else f', "{t.dtype}"'


def _returns(count: int) -> str:
    return "Tensor" if count == 1 else f"tuple[{', '.join(['Tensor'] * count)}]"


def _needs_fixed_rank(c: ir.Component) -> bool:
    """Whether a part takes (N, channels, *spatial) only, so that extra batch axes are folded into N."""
    if isinstance(c, ir.Layer):
        return LAYERS[c.op].fixed_rank
    if isinstance(c, ir.Seq):
        return any(_needs_fixed_rank(p) for p in c.parts)
    if isinstance(c, ir.Repeat):
        return c.body is not None and _needs_fixed_rank(c.body)
    return False


# ---- bodies -------------------------------------------------------------------------------------

LOWERINGS: dict[type, Callable[..., tuple[str, int]]] = {}


def lowering(node_class: type):
    def register(fn):
        LOWERINGS[node_class] = fn
        return fn
    return register


class Emitter:
    """Emits the body of one def or forward."""

    def __init__(self, gen: Generator, f: ir.Function, module: ir.Module | None):
        self.gen = gen
        self.f = f
        self.module = module
        self.ns = Namespace({"self"} | {python_name(b) for b in f.boxes}, base=gen.reserved)
        self.names: dict[Symbol, str] = dict(gen.constants)
        self.plan = Plan()
        self.orders: dict[ir.Local, tuple[int, ...]] = {}  # wires held in another physical order
        self.notes: list[str] = []  # the layout decisions of the statement being emitted, as comments
        self.used: set[Symbol] = set()  # the sizes the code spells: those read off the inputs are read
        self.constants: set[ir.Local] = set()  # wires computed from no input: they have no batch axes
        if module is not None:
            for hp in module.hparams:
                self.names[hp.symbol] = f"self.{python_name(hp.name)}"
            for member in module.members:
                if isinstance(member, ir.SizeMember):
                    self.names[member.symbol] = f"self.{python_name(member.name)}"

    def size(self, s: Size) -> tuple[str, int]:
        def name_of(symbol):
            if symbol not in self.names:
                raise AssertionError(f"size `{symbol.name}` is used before it is known")
            self.used.add(symbol)
            return self.names[symbol]
        return size_code(s, name_of)

    def box_ref(self, name: str) -> str:
        return f"self.{python_name(name)}" if self.module is not None else python_name(name)

    def body(self) -> list[str]:
        """Check the inputs, read the generic sizes off them, check the rest, then the statements.

        Each input is checked by one condition (its rank, its element type, the sizes of the axes
        that no size is read off), inline; only a failing input calls a helper, for the message.
        Sizes the body never uses are not read."""
        params = [(self.ns(p.name), p.type) for p in self.f.params]
        types = [t for _, t in params]
        sources = ir.size_sources(types, [g for g in self.f.generics if g not in self.names], set(self.names))
        read = {(s.wire, s.axis) for s in sources if s.divisor is None}
        known = set(self.names)  # sizes known before any is read off the inputs
        # The checks before the sizes are read (so that a missing axis is reported as such), and after.
        early: list[tuple[list[str], list[str]]] = []
        late: list[tuple] = []
        for w, ((name, t), p) in enumerate(zip(params, self.f.params)):
            ranked = any(s.wire == w for s in sources)
            unread = [i for i in range(t.rank) if (w, i) not in read]
            now = ranked and all(t.axes[i].size.symbols() <= known for i in unread)
            what, axes, at = safe_text(p.name), safe_text(str(t)), self.at(p)
            expected = [f"{name}.shape[{i - t.rank}]" if (w, i) in read else None for i in range(t.rank)]
            if ranked:
                self.gen.helpers.add("_check_rank")
                cond = [f"{name}.dim() < {t.rank}", _wrong_dtype(name, t.dtype)]
                calls = [f'_check_rank("{what}", {name}, {t.rank}, "{axes}"{_dtype_option(t)}){at}']
                if unread and now:
                    cond.append(self.sizes_differ(name, t, unread))
                    calls.append(self.shape_check(what, name, t, expected, axes, ", None", at))
                early.append((cond, calls))
                if unread and not now:
                    late.append((name, t, unread, expected, what, axes, ", None", at, None))
            else:
                late.append((name, t, unread, expected, what, axes, _dtype_option(t), at, _wrong_dtype(name, t.dtype)))
        named = self.gen.name_sizes(params, self.f.generics, self.names, self.ns)
        checks = []
        for name, t, unread, expected, what, axes, dtype, at, wrong in late:  # now that the sizes have names
            cond = ([self.sizes_differ(name, t, unread, wrong is None)] if unread else []) + ([wrong] if wrong else [])
            checks += _check_lines(cond, [self.shape_check(what, name, t, expected, axes, dtype, at)])
        for pre in self.f.preconditions:
            self.used |= pre.symbols()
            checks += self.gen.precondition(pre, self.names, self.ns, at_call=True)
        body = fuse_attention(self.f.body)
        self.plan = plan_layouts(body, self.gen.modules)
        statements = self.block(body)
        keep = set(self.used)
        for source, _, _ in reversed(named):  # a size read divided by others needs those
            if source.symbol in keep and source.divisor is not None:
                keep |= source.divisor.symbols()
        lines = []
        if early:  # a trace fixes the example's sizes: comparing them would only warn
            lines.append("if CHECK_SHAPES and not torch.jit.is_tracing():")
            lines += ["    " + line for cond, calls in early for line in _check_lines(cond, calls)]
        lines += _size_reads(params, [n for n in named if n[0].symbol in keep])
        if checks:
            lines.append("if CHECK_SHAPES:")
            lines.extend("    " + c for c in checks)
        return lines + statements

    def sizes_differ(self, name: str, t: TensorType, axes: list[int], ranked: bool = True) -> str:
        """Python that is true when some of the trailing `axes` of `name` differ from their sizes in `t`:
        one comparison of a slice of its shape where they are adjacent; `ranked`: its rank is checked."""
        sizes = [self.size(t.axes[i].size)[0] for i in axes]
        if len(axes) == 1 and ranked:
            return f"{name}.shape[{axes[0] - t.rank}] != {sizes[0]}"
        if axes == list(range(axes[0], axes[-1] + 1)):  # a slice is shorter where axes are missing
            first, last = axes[0] - t.rank, axes[-1] - t.rank
            tail = "," if len(sizes) == 1 else ""
            return f"{name}.shape[{first}:{'' if last == -1 else last + 1}] != ({', '.join(sizes)}{tail})"
        return " or ".join(f"{name}.shape[{i - t.rank}] != {size}" for i, size in zip(axes, sizes))

    def shape_check(self, what: str, name: str, t: TensorType, expected: list, axes: str, dtype: str, at: str) -> str:
        """The helper call that reports a wrong shape (the axes sizes are read off spelt as such)."""
        shape = [e if e is not None else self.size(a.size)[0] for e, a in zip(expected, t.axes)]
        self.gen.helpers.add("_check_shape")
        spelt = ", ".join(shape) + ("," if len(shape) == 1 else "")
        return f'_check_shape("{what}", {name}, ({spelt}), "{axes}"{dtype}){at}'

    def at(self, p: ir.Param) -> str:
        """A check's comment: the parameter's line in the spec, shown beside it in tracebacks."""
        where = self.gen.where(p.span)
        return f"  # {where}" if where else ""

    def block(self, stmts) -> list[str]:
        lines: list[str] = []
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                order: tuple[int, ...] | None = None
                if len(stmt.targets) == 1 and stmt.targets[0] in self.plan.stored:
                    code, _, order = self.physical(stmt.value)
                    if order is not None:
                        self.orders[stmt.targets[0]] = order
                else:
                    code, _ = self.expr(stmt.value)
                targets = ", ".join(self.ns(t) for t in stmt.names)
                types = ", ".join(str(t) for t in stmt.types)
                if order is not None:
                    t = stmt.types[0]
                    types += ", laid out " + " ".join(str(t.axes[i]) for i in order)
                lines.extend(f"# {note}" for note in self.notes)
                self.notes.clear()
                lines.append(f"{targets} = {code}  # {safe_text(types)}  {self.gen.where(stmt.span)}")
                if self.constant(stmt.value):
                    self.constants.update(stmt.targets)
                bound = [(self.ns(t), _in_order(ty, self.orders.get(local)))
                         for t, ty, local in zip(stmt.names, stmt.types, stmt.targets) if isinstance(ty, TensorType)]
                lines.extend(self.gen.bind_sizes(bound, self.f.generics, self.names, self.ns, only_new=True))
            elif isinstance(stmt, ir.If):
                for i, (condition, body) in enumerate(stmt.branches):
                    keyword = "if" if i == 0 else "elif"
                    lines.append(f"{keyword} {self.condition(condition)}:  # {self.gen.where(stmt.span)}"
                                 if i == 0 else f"{keyword} {self.condition(condition)}:")
                    lines.extend("    " + line for line in self.block(body))
                if stmt.orelse:
                    lines.append("else:")
                    lines.extend("    " + line for line in self.block(stmt.orelse))
            elif isinstance(stmt, ir.Return):
                codes = [self.with_batch(v) for v in stmt.values]
                types = ", ".join(str(t) for v in stmt.values
                                  for t in ir.types_of(v.type))
                lines.extend(f"# {note}" for note in self.notes)
                self.notes.clear()
                lines.append(f"return {', '.join(codes)}  # {safe_text(types)}  {self.gen.where(stmt.span)}")
            else:
                index = self.ns(stmt.var.name)
                self.names[stmt.var] = index
                lines.append(f"for {index} in range({self.size(stmt.start)[0]}, {self.size(stmt.stop + 1)[0]}):"
                             f"  # {self.gen.where(stmt.span)}")
                lines.extend("    " + line for line in self.block(stmt.body))
        return lines

    def constant(self, node: ir.Value) -> bool:
        """A value computed from no input (buffers, learned tensors, masks, positions, numbers): it
        has no batch axes at run time."""
        if isinstance(node, ir.Read):
            return node.local in self.constants
        return all(self.constant(a) for a in node.args)

    def with_batch(self, node: ir.Value) -> str:
        """A result: one computed from no input gets the first input's batch axes (a view)."""
        code, _ = self.expr(node)
        if not self.f.params or not isinstance(node.type, TensorType) or not self.constant(node):
            return code
        self.gen.helpers.add("_with_batch")
        first = self.f.params[0]
        return f"_with_batch({code}, {self.ns(first.name)}, {first.type.rank})"

    def condition(self, c: ir.Condition) -> str:
        attribute = f"self.{python_name(c.name)}"
        if c.op == "true":
            return attribute
        if c.op == "false":
            return f"not {attribute}"
        return f"{attribute} {c.op} {string_code(c.value or '')}"

    def expr(self, node: ir.Value) -> tuple[str, int]:
        return LOWERINGS[type(node)](self, node)

    def physical(self, node: ir.Value) -> tuple[str, int, tuple[int, ...] | None]:
        """`node` in the physical order the plan gave it, and that order (None: the logical one)."""
        if isinstance(node, ir.Read) and node.local in self.orders:
            return self.ns(node.name), ATOM, self.orders[node.local]
        if isinstance(node, ir.Call) and id(node) in self.plan.orders:
            return _call_code(self, node), ATOM, self.plan.orders[id(node)]
        code, prec = self.expr(node)
        return code, prec, None

    def operand(self, node: ir.Value, needed: int) -> str:
        code, prec = self.expr(node)
        return wrap(code, prec, needed)




# ---- lowerings of expressions -------------------------------------------------------------------


def _size_reads(wires, named: list[tuple]) -> list[str]:
    """The lines reading the named sizes: adjacent axes of one wire in one line."""
    lines: list[str] = []
    run: list[tuple] = []

    def flush():
        if not run:
            return
        wire, t = wires[run[0][0].wire]
        targets = [name for _, name, _ in run]
        first, last = run[0][0].axis - t.rank, run[-1][0].axis - t.rank
        if len(run) == 1:
            lines.append(f"{targets[0]} = {wire}.shape[{first}]")
        else:
            lines.append(f"{', '.join(targets)} = {wire}.shape[{first}:{'' if last == -1 else last + 1}]")
        run.clear()

    for source, name, divisor in named:
        if divisor is not None:
            flush()
            wire, t = wires[source.wire]
            lines.append(f"{name} = {wire}.shape[{source.axis - t.rank}] // {divisor}")
            continue
        if run and (run[-1][0].wire != source.wire or run[-1][0].axis != source.axis - 1):
            flush()
        run.append((source, name, divisor))
    flush()
    return lines


def _in_order(t: TensorType, order: tuple[int, ...] | None) -> TensorType:
    """`t` with its axes in a physical order."""
    return t if order is None else TensorType(tuple(t.axes[i] for i in order), t.dtype)


def _logical(code: str, prec: int, order: tuple[int, ...] | None) -> tuple[str, int]:
    """Code in a physical order, moved to the logical one."""
    if order is None:
        return code, prec
    return _permute(wrap(code, prec, ATOM), list(order), sorted(order)), ATOM


@lowering(ir.Read)
def _wire(em: Emitter, node: ir.Read):
    return _logical(em.ns(node.name), ATOM, em.orders.get(node.local))


@lowering(ir.LearnedTensor)
def _parameter(em: Emitter, node: ir.LearnedTensor):
    return f"self.{python_name(node.name)}", ATOM


@lowering(ir.Const)
def _const(em: Emitter, node: ir.Const):
    if node.value == math.inf:
        em.gen.uses_math = True
        return "math.inf", ATOM
    return repr(node.value), ATOM


@lowering(ir.HParamValue)
def _hparam_value(em: Emitter, node: ir.HParamValue):
    return f"self.{python_name(node.name)}", ATOM


@lowering(ir.SizeValue)
def _size(em: Emitter, node: ir.SizeValue):
    return em.size(node.size)


@lowering(ir.Neg)
def _neg(em: Emitter, node: ir.Neg):
    return f"-{em.operand(node.operand, UNARY)}", UNARY


_BINARY = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "//": MUL, "**": POWER}


def _binary_code(em: Emitter, op: str, left: str, lprec: int, right: str, rprec: int):
    prec = _BINARY[op]
    if op == "**":  # right-associative
        return f"{wrap(left, lprec, prec + 1)} ** {wrap(right, rprec, prec)}", prec
    return f"{wrap(left, lprec, prec)} {op} {wrap(right, rprec, prec + 1)}", prec


@lowering(ir.ScalarBinary)
def _scalar_binary(em: Emitter, node: ir.ScalarBinary):
    (l, lp), (r, rp) = em.expr(node.left), em.expr(node.right)
    return _binary_code(em, node.op, l, lp, r, rp)


@lowering(ir.Binary)
def _binary(em: Emitter, node: ir.Binary):
    return _binary_code(em, node.op, *_lined_up(em, node.left, node.left_align, node),
                        *_lined_up(em, node.right, node.right_align, node))


def _lined_up(em: Emitter, arg: ir.Value, align: ir.Alignment | None, node: ir.Value) -> tuple[str, int]:
    """An operand of an elementwise operation, reshaped to broadcast against its result."""
    assert isinstance(node.type, TensorType)
    code, prec = em.expr(arg)
    return (_aligned(code, prec, align, node.type.rank), ATOM) if align is not None else (code, prec)


COMPARE = ADD - 10  # Python's comparisons bind looser than arithmetic
BITAND = ADD - 5  # and `&` between the two


@lowering(ir.Compare)
def _compare(em: Emitter, node: ir.Compare):
    (left, lprec), (right, rprec) = (_lined_up(em, arg, align, node) for arg, align in
                                     ((node.left, node.left_align), (node.right, node.right_align)))
    return f"{wrap(left, lprec, COMPARE + 1)} {COMPARISONS[node.op]} {wrap(right, rprec, COMPARE + 1)}", COMPARE


@lowering(ir.Where)
def _where(em: Emitter, node: ir.Where):
    args = ", ".join(_lined_up(em, arg, align, node)[0] for arg, align in zip(node.args, node.aligns))
    return f"torch.where({args})", ATOM


def _like_input(em: Emitter, *options: str) -> str:
    """`, dtype=X.dtype, device=X.device` for a constant made in the body (`tril`, `arange`, `eye`): on the
    first input's device (and dtype), so that it meets the inputs there; nothing in a def of no inputs."""
    like = em.ns(em.f.params[0].name) if em.f.params else None
    return "".join(f", {o}={like}.{o}" for o in options) if like else ""


@lowering(ir.Tril)
def _tril(em: Emitter, node: ir.Tril):
    rows, cols = em.size(node.rows)[0], em.size(node.cols)[0]
    return f"torch.ones({rows}, {cols}, dtype=torch.bool{_like_input(em, 'device')}).tril()", ATOM


@lowering(ir.Arange)
def _arange(em: Emitter, node: ir.Arange):
    return f"torch.arange({em.size(node.size)[0]}{_like_input(em, 'device')})", ATOM


@lowering(ir.BufferValue)
def _buffer(em: Emitter, node: ir.BufferValue):
    return f"self.{python_name(node.name)}", ATOM


def _aligned(code: str, prec: int, align: ir.Alignment, rank: int) -> str:
    """A wire whose axes sit at `positions` of a result of `rank` axes, reshaped to broadcast: its
    own batch axes must line up with the result's, so the result's other axes are inserted."""
    positions = align.positions
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    code = wrap(code, prec, ATOM)
    if order != list(range(len(positions))):
        code = _permute(code, list(range(len(positions))), order)
    present = set(positions)
    if present == set(range(rank)):
        return code  # the same axes, now in the same order
    if align.unbatched and sorted(positions) == list(range(rank - len(positions), rank)):
        return code  # trailing axes in order, no batch axes: PyTorch broadcasting lines them up
    first = 0 if not align.unbatched else min(positions, default=rank)
    index = ", ".join(":" if r in present else "None" for r in range(first, rank))
    return f"{code}[..., {index}]"


_TRAILING_SWAPS = re.compile(r"(?:\.transpose\(-\d+, -\d+\))+$")
_SWAP = re.compile(r"\.transpose\((-\d+), (-\d+)\)")


def _permute(code: str, current: list, target: list) -> str:
    """Move the trailing axes of `code` from order `current` to order `target` (same items), as the
    fewest swaps of two axes (`transpose`), counted from the end: the code takes any number of
    leading batch axes, so no rank is known here, and a `movedim` of negative dims is what torch's
    TorchScript-based ONNX exporter translates wrongly (into a Transpose with a negative `perm`).
    Swaps that `code` already ends with are composed with these, so that a value moved twice (a
    lifted call's result put back in order, then rearranged) is moved once, or not at all."""
    found = _TRAILING_SWAPS.search(code)
    before = [(int(a), int(b)) for a, b in _SWAP.findall(found.group())] if found else []
    n = max([len(current)] + [-d for swap in before for d in swap])
    axes = list(range(-n, 0))  # the trailing n axes of what `code` starts from, in their current places
    for a, b in before:
        axes[a], axes[b] = axes[b], axes[a]
    lead = n - len(current)  # axes the earlier swaps moved that this permutation leaves in place
    wanted = axes[:lead] + [axes[lead + current.index(item)] for item in target]
    if found:
        code = code[:found.start()]
    order, swaps = list(range(-n, 0)), []
    for i, axis in enumerate(wanted):
        j = order.index(axis)
        if j != i:
            order[i], order[j] = order[j], order[i]
            swaps.append(f".transpose({i - n}, {j - n})")
    return code + "".join(swaps)


@lowering(ir.ScalarFn)
def _scalar_fn(em: Emitter, node: ir.ScalarFn):
    fn = ON_NUMBERS[node.fn]
    if fn.startswith("math."):
        em.gen.uses_math = True
    return f"{fn}({em.expr(node.operand)[0]})", ATOM


@lowering(ir.Map)
def _elementwise(em: Emitter, node: ir.Map):
    spelling, operand = MAPS[node.fn], em.expr(node.operand)[0]
    return (spelling.format(operand) if "{}" in spelling else f"{spelling}({operand})"), ATOM


@lowering(ir.Normalise)
def _normalise(em: Emitter, node: ir.Normalise):
    assert isinstance(node.type, TensorType)
    dim = node.dim - node.type.rank
    return f"{NORMALISERS[node.fn]}({em.expr(node.operand)[0]}, dim={dim})", ATOM


@lowering(ir.Reduce)
def _reduce(em: Emitter, node: ir.Reduce):
    dims = [d - node.rank for d in node.dims]
    code = em.operand(node.operand, ATOM)
    if not dims:  # nothing to reduce (a wire with no axes)
        return code, ATOM
    method = REDUCTIONS[node.fn]
    if method == "prod" and len(dims) > 1:  # torch.prod reduces one axis at a time
        for d in sorted(dims):  # most negative first: the axes to its right keep their index
            code = f"{code}.prod(dim={d})"
        return code, ATOM
    dim = str(dims[0]) if len(dims) == 1 else f"({', '.join(map(str, dims))})"
    return f"{code}.{method}(dim={dim})", ATOM


@lowering(ir.Flatten)
def _flatten(em: Emitter, node: ir.Flatten):
    return f"{em.operand(node.operand, ATOM)}.flatten({-node.count})", ATOM


@lowering(ir.Concat)
def _concat(em: Emitter, node: ir.Concat):
    dim = node.dim - node.rank
    args = ", ".join(em.expr(a)[0] for a in node.operands)
    if node.broadcast:  # some parts (learned tensors) have no batch axes
        em.gen.helpers.add("_cat")
        return f"_cat(({args}), dim={dim}, rank={node.rank})", ATOM
    return f"torch.cat(({args}), dim={dim})", ATOM


@lowering(ir.Eye)
def _eye(em: Emitter, node: ir.Eye):
    return f"torch.eye({em.size(node.size)[0]}{_like_input(em, 'dtype', 'device')})", ATOM


@lowering(ir.Attention)
def _attention(em: Emitter, node: ir.Attention):
    """Scaled dot-product attention in PyTorch's fused kernel (which wants contiguous heads)."""
    q, k, v = (f"{em.operand(a, ATOM)}.contiguous()" for a in (node.query, node.key, node.value))
    option = _scale_option(em, node)
    if node.mask is not None:
        code, prec = em.expr(node.mask)
        if node.mask_align:
            code, prec = _aligned(code, prec, node.mask_align, 2), ATOM
        option += f", attn_mask={_with_causal(em, node, code, prec)[0]}"
    if node.dropout is not None:  # nn.Dropout's probability, in training only
        option += f", dropout_p=self.{python_name(node.dropout)}.p if self.training else 0.0"
    if node.causal and node.mask is None:
        option += ", is_causal=True"
    return f"nn.functional.scaled_dot_product_attention({q}, {k}, {v}{option})", ATOM


def _with_causal(em: Emitter, node: ir.Attention, mask: str, prec: int) -> tuple[str, int]:
    """The kernel's mask: `mask` alone, or, with the causal mask too (which the kernel's `is_causal`
    cannot join with another), both at once."""
    if not node.causal:
        return mask, prec
    assert isinstance(node.query.type, TensorType) and isinstance(node.key.type, TensorType)
    rows, cols = (em.size(t.axes[-2].size)[0] for t in (node.query.type, node.key.type))
    like = em.ns(em.f.params[0].name) if em.f.params else wrap(mask, prec, ATOM)
    triangle = f"torch.ones({rows}, {cols}, dtype=torch.bool, device={like}.device).tril()"
    return f"{triangle} & {wrap(mask, prec, ADD)}", BITAND


@lowering(ir.Index)
def _index(em: Emitter, node: ir.Index):
    items = []
    for item in node.items:
        if isinstance(item, ir.IndexAll):
            items.append(":")
        elif isinstance(item, ir.IndexAt):
            items.append(em.size(item.position)[0])
        else:
            start, stop = em.size(item.start)[0], em.size(item.stop)[0]
            items.append(f"{'' if start == '0' else start}:{stop}")
    return f"{em.operand(node.operand, ATOM)}[..., {', '.join(items)}]", ATOM


def _letters(labels: list) -> dict:
    """One einsum letter per axis name: the name itself where it is one ASCII letter, else its initial
    where free, else the first free letter."""
    pool = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    letters: dict = {}
    for label in labels:
        if label in pool and label not in letters:
            letters[label] = label
    used = set(letters.values())
    for label in labels:
        if label in letters:
            continue
        initial = label[0] if label[0] in pool and label[0] not in used else None
        choice = initial or next(c for c in pool if c not in used)
        letters[label] = choice
        used.add(choice)
    return letters


def _split_groups(code: str, labels, em: Emitter, sizes: dict) -> tuple[str, list]:
    """Unbind `(k h)` axes of an input: `X.unflatten(-1, (k, h))`."""
    flat: list[str] = []
    rank = len(labels)
    for i, label in enumerate(labels):
        if isinstance(label, ir.Group):
            parts = ", ".join(em.size(sizes[p])[0] for p in label.labels)
            code = f"{code}.unflatten({i - rank}, ({parts}))"
            flat.extend(label.labels)
        else:
            flat.append(label)
    return code, flat


@lowering(ir.Einsum)
def _einsum(em: Emitter, node: ir.Einsum):
    operands, specs = [], []
    all_labels = []
    for arg, labels in zip(node.operands, node.inputs):
        code, flat = _split_groups(em.operand(arg, ATOM), labels, em, node.sizes)
        operands.append(code)
        specs.append(flat)
        all_labels.extend(flat)
    out_flat = ir.leaves(node.output)
    letters = _letters(all_labels + out_flat)

    def call(inputs: list, output: list, codes: list[str]) -> str:
        equation = ",".join("..." + "".join(letters[l] for l in spec) for spec in inputs)
        equation += "->..." + "".join(letters[l] for l in output)
        return f'torch.einsum("{equation}", {", ".join(codes)})'

    if len(operands) < 3:
        return _merge_groups(call(specs, out_flat, operands), node.output), ATOM
    # Two operands at a time, in the cheapest order (chosen here rather than searched at run time).
    steps, cost = einsum_path.choose(specs, out_flat, node.sizes)
    pending = list(zip(specs, operands, [str(n + 1) for n in range(len(operands))]))
    order = []
    for i, j in steps:
        (a, x, p), (b, y, q) = pending[i], pending[j]
        rest = [o for n, o in enumerate(pending) if n not in (i, j)]
        kept = einsum_path.kept(a + b, [r[0] for r in rest], out_flat)
        order.append(f"({p} {q})")
        pending = rest + [(kept, call([a, b], kept, [x, y]), f"({p} {q})")]
    em.notes.append(f"einsum path: operands {' then '.join(order)}, {safe_text(str(cost))} multiplications")
    return _merge_groups(pending[0][1], node.output), ATOM


def _merge_groups(code: str, out) -> str:
    """Bind `(k h)` axes of an output: `.flatten(-2)` over each group, last group first."""
    widths = [len(label.labels) if isinstance(label, ir.Group) else 1 for label in out]
    flat_rank = sum(widths)
    position = flat_rank
    for width in reversed(widths):
        position -= width
        if width > 1:
            start, end = position - flat_rank, position + width - 1 - flat_rank
            code = f"{code}.flatten({start})" if end == -1 else f"{code}.flatten({start}, {end})"
    return code


@lowering(ir.Rearrange)
def _rearrange(em: Emitter, node: ir.Rearrange):
    code, flat = _split_groups(em.operand(node.operand, ATOM), node.input, em, node.sizes)
    code, flat, output = _merge_in_place(code, flat, node.input, node.output)
    code = _permute(code, flat, [leaf for label in output for leaf in _leaves_of(label)])
    return _merge_groups(code, output), ATOM


def _merge_in_place(code: str, flat: list, input_labels, output) -> tuple[str, list, list]:
    """Flatten before permuting each `(a b)` of the output whose axes are axes of the input side by
    side, in that order (`dim a b -> (a b) dim`): on a contiguous input that flatten is a view, and
    the permutation after it one too, where flattening after the permutation copies.  The group is
    one item of `flat` and of the output from then on."""
    plain = {label for label in input_labels if not isinstance(label, ir.Group)}
    flat, items = list(flat), []
    for label in output:
        if isinstance(label, ir.Group) and all(part in plain for part in label.labels):
            width, i = len(label.labels), flat.index(label.labels[0])
            if flat[i:i + width] == list(label.labels):
                start, end = i - len(flat), i + width - 1 - len(flat)
                code = f"{code}.flatten({start})" if end == -1 else f"{code}.flatten({start}, {end})"
                label = _Merged(label)
                flat[i:i + width] = [label]
        items.append(label)
    return code, flat, items


@dataclass(frozen=True)
class _Merged:
    """An output group already flattened in place: one axis."""
    group: ir.Group


def _leaves_of(label) -> list:
    return [label] if isinstance(label, _Merged) else ir.leaves([label])


@lowering(ir.TopK)
def _topk(em: Emitter, node: ir.TopK):
    rank = node.operand.type.rank  # type: ignore[union-attr]
    return f"torch.topk({em.expr(node.operand)[0]}, {em.size(node.k)[0]}, dim={node.dim - rank})", ATOM


@lowering(ir.Route)
def _route(em: Emitter, node: ir.Route):
    """Each token through only its chosen experts (`_route`): the expert def is called once per
    expert that some token chose, on those tokens' rows."""
    em.gen.helpers.add("_route")
    target: ir.Function = node.signature.target
    expert = python_name(target.name)
    if target.boxes:
        boxes = ", ".join(f"{python_name(b)}={em.box_ref(b)}" for b in target.boxes)
        expert = f"lambda *args: {expert}(*args, {boxes})"
    args = ", ".join(em.expr(a)[0] for a in node.arguments)
    dims = ", ".join("None" if kind == "token" else str(d) for kind, d in zip(node.kinds, node.dims))
    comma = "," if len(node.arguments) == 1 else ""
    return (f"_route({expert}, {em.size(node.experts)[0]}, {em.expr(node.index)[0]}, ({args}{comma}), "
            f"({dims}{comma}))"), ATOM


# ---- calls ----------------------------------------------------------------------------------------


@lowering(ir.Call)
def _call(em: Emitter, node: ir.Call):
    return _logical(_call_code(em, node), ATOM, em.plan.orders.get(id(node)))


def _call_code(em: Emitter, node: ir.Call) -> str:
    """The call, its result in the physical order the plan gave it."""
    linear = is_linear(node)
    grouped = grouped_attention(node)
    if grouped is not None:
        code = _grouped_attention(em, node, *grouped)
        return code if id(node) in em.plan.orders else _restore(code, node)
    kernel = em.gen.kernel(node)
    if kernel is not None:
        code = _kernel_call(em, node, kernel)
    elif node.callee_kind == "def":
        args = [_arrange(em, arg, layout, node) for arg, layout in zip(node.arguments, node.layouts)]
        target: ir.Function = node.target
        boxes = [f"{python_name(b)}={em.box_ref(b)}" for b in target.boxes]
        code = f"{python_name(target.name)}({', '.join([a.code for a in args] + boxes)})"
    else:
        args = [_arrange(em, arg, layout, node, any_own_order=linear)
                for arg, layout in zip(node.arguments, node.layouts)]
        code = _box_call(em, node, [a.code for a in args]) if node.callee_kind == "box" else \
            _component_call(em, node, args)
    if id(node) in em.plan.orders and not linear:  # left as the callee returns it (a planned Linear lays out its own)
        return code
    return _restore(code, node)


def _kernel_call(em: Emitter, node: ir.Call, kernel: Kernel) -> str:
    """A call of a def or a submodule that is one attention, as the kernel's call on the arguments:
    the query, key and value as the plan laid them out (copied only where their innermost axis moved),
    the mask with the heads it lacks left to the kernel's broadcasting."""
    attention = kernel.attention
    args = [_arrange(em, arg, layout, node) if i in kernel.roles[:3] else None
            for i, (arg, layout) in enumerate(zip(node.arguments, node.layouts))]
    qkv = []
    for i in kernel.roles[:3]:
        arranged = args[i]
        assert arranged is not None
        qkv.append(arranged.code + (".contiguous()" if arranged.inner_moved else ""))
    option = _scale_option(em, attention)
    if attention.mask is not None:
        i = kernel.roles[3]
        layout = node.layouts[i]
        lacks = not layout.lifted  # the same mask for every head
        raw, mask = _mask_argument(em, node, i, attention, insert=not lacks)
        shared = _head_mask(raw, mask, len(layout.own), len(node.lifted), em.constant(node.arguments[i]))
        option += f", attn_mask={shared if lacks else mask}"
    if attention.dropout is not None:  # the submodule's Dropout, in training only
        ref = _part_ref(em, node)
        option += f", dropout_p={ref}.{python_name(attention.dropout)}.p if {ref}.training else 0.0"
    if attention.causal:
        option += ", is_causal=True"
    return f"nn.functional.scaled_dot_product_attention({', '.join(qkv)}{option})"


def _mask_argument(em: Emitter, node: ir.Call, i: int, attention: ir.Attention, insert: bool) -> tuple[str, str]:
    """The kernel call's mask argument `i`: as the caller holds it, and lined up with the scores."""
    raw = _arrange(em, node.arguments[i], node.layouts[i], node, insert=insert).code
    return raw, raw if attention.mask_align is None else _aligned(raw, ATOM, attention.mask_align, 2)


def _scale_option(em: Emitter, attention: ir.Attention) -> str:
    """The kernel's `scale` option (none for its default, 1/sqrt(k))."""
    if attention.scale is None:
        return ""
    op, factor = attention.scale
    if factor is None:
        return ", scale=1.0"
    code, prec = em.expr(factor)
    return f", scale=1 / {wrap(code, prec, MUL + 1)}" if op == "/" else f", scale={code}"


def _head_mask(raw: str, mask: str, rank: int, heads: int, constant: bool) -> str:
    """A mask shared by every head (`raw`, of `rank` axes of its own, lined up with the scores as
    `mask`), for a kernel call with `heads` head axes before the scores' two: without batch axes it
    broadcasts as it is (and a mask of two axes keeps the fused kernel), with them it needs the head
    axes, of size 1, between those and its own.  A `constant` (computed from no input) has none."""
    inserted = ".unsqueeze(-3)" if heads == 1 else f"[..., {'None, ' * heads}:, :]"
    if constant:
        return mask
    if not raw.isidentifier():
        return f"{mask}{inserted}"
    return f"({mask} if {raw}.dim() == {rank} else {mask}{inserted})"


@dataclass(frozen=True)
class Arranged:
    code: str
    own: list[int]  # the axes the callee acts on, in the order they are passed
    inner_moved: bool  # whether the innermost axis is not the one the argument had innermost (a copy for kernels)


def _grouped_attention(em: Emitter, node: ir.Call, attention: ir.Attention, roles: list, order: list,
                       kept: int) -> str:
    """One kernel call for grouped-query attention: the queries' lifted axes are one head axis, the
    keys' and values' (the leading `kept` of them) another, which the kernel repeats (`enable_gqa`)."""
    q, k, v = (_arrange(em, node.arguments[i], node.layouts[i], node, insert=False) for i in roles[:3])
    n, sizes = len(order), ", ".join(em.size(node.lift_sizes[label])[0] for label in order)
    qc = f"{q.code}.flatten({-2 - n}, -3)" if n > 1 else q.code
    kc, vc = ((f"{x.code}.flatten({-2 - kept}, -3)" if kept > 1 else x.code) for x in (k, v))
    qc, kc, vc = (c + (".contiguous()" if x.inner_moved else "") for c, x in ((qc, q), (kc, k), (vc, v)))
    option = _scale_option(em, attention)
    if attention.mask is not None:  # the same mask for every head
        layout = node.layouts[roles[3]]
        raw, mask = _mask_argument(em, node, roles[3], attention, insert=False)
        mask, prec = _with_causal(em, attention, mask, ATOM)
        constant = em.constant(node.arguments[roles[3]])
        option += f", attn_mask={_head_mask(raw, wrap(mask, prec, ATOM), len(layout.own), 1, constant)}"
    elif attention.causal:
        option += ", is_causal=True"
    code = f"nn.functional.scaled_dot_product_attention({qc}, {kc}, {vc}{option}, enable_gqa=True)"
    return f"{code}.unflatten(-3, ({sizes}))" if n > 1 else code


def _arrange(em: Emitter, arg: ir.Value, layout: ir.Layout, call: ir.Call, any_own_order: bool = False,
             insert: bool = True) -> Arranged:
    """Put an argument's lifted axes (and extra leading axes) before the axes the callee acts on,
    from the argument's physical order; `any_own_order`: the callee takes its own axes in any order;
    `insert` the lifted axes it lacks (inner broadcasting), or leave them out."""
    code, prec, order = em.physical(arg)
    code = wrap(code, prec, ATOM)
    current = list(order) if order is not None else list(range(layout.rank))
    own = [a for a in current if a in layout.own] if any_own_order else list(layout.own)
    positions = layout.lifted
    target: list = [positions.get(l, ir.NewAxis(l)) for l in call.before] + list(layout.lead) + \
        [positions.get(l, ir.NewAxis(l)) for l in call.after] + own
    if not insert:
        target = [t for t in target if not isinstance(t, ir.NewAxis)]
    existing = [t for t in target if not isinstance(t, ir.NewAxis)]
    code = _permute(code, current, existing)
    inner_moved = bool(target) and (isinstance(target[-1], ir.NewAxis) or current[-1] != target[-1])
    total = len(target)
    for index in reversed(range(total)):
        item = target[index]
        if isinstance(item, ir.NewAxis):
            size = em.size(call.lift_sizes[item.label])[0]
            em.gen.helpers.add("_insert_axis")
            code = f"_insert_axis({code}, {index - total}, {size})"
    return Arranged(code, own, inner_moved)


def _restore(code: str, node: ir.Call) -> str:
    """Move lifted axes that sat after the callee's axes back there."""
    after = node.after
    if not after:
        return code
    assert isinstance(node.type, TensorType)
    out_rank = node.type.rank - len(node.before) - node.lead - len(after)
    n = len(after)
    axes = list(range(n + out_rank))  # the lifted axes first, then the callee's: lifted ones last
    return _permute(code, axes, axes[n:] + axes[:n])


def _linear(em: Emitter, node: ir.Call, ref: str, x: Arranged) -> str:
    """A Linear part; where the plan gave its input or its output axes another order, as
    `nn.functional.linear` with its weight's columns or rows permuted to match."""
    attrs = node.target.attrs
    n_in, n_out = attrs.inputs.rank, attrs.outputs.rank
    assert isinstance(node.type, TensorType)
    columns, rows = linear_weight_order(em.plan, node)
    code = x.code if n_in == 1 else f"{x.code}.flatten({-n_in})"
    if columns == sorted(columns) and rows == sorted(rows):
        code = f"{ref}({code})"
    else:
        weight, bias = f"_w{'.t()' if attrs.transposed else ''}", f"{ref}.bias" if attrs.bias else None
        sizes_in = ", ".join(em.size(s)[0] for s in attrs.inputs.sizes)
        moved = []
        if columns != sorted(columns):
            weight = _permute(f"{weight}.unflatten(-1, ({sizes_in}))", list(range(n_in)), columns)
            weight += f".flatten({-n_in})"
            axes = " ".join(str(attrs.inputs.axes[i]) for i in columns)
            moved.append(f"columns in the order its input arrives, ({axes})")
        if rows != sorted(rows):
            sizes_out = ", ".join(em.size(s)[0] for s in attrs.outputs.sizes)
            weight = _permute(f"{weight}.unflatten(0, ({sizes_out}))", list(range(n_out)) + ["in"], rows + ["in"])
            weight += f".flatten(0, {n_out - 1})"
            if bias is not None:
                bias = _permute(f"{bias}.unflatten(0, ({sizes_out}))", list(range(n_out)), rows) + ".flatten()"
            axes = " ".join(str(attrs.outputs.axes[i]) for i in rows)
            moved.append(f"rows in ({axes}) order, which its reader takes without a copy")
        part = safe_text(node.part or "")
        em.notes.append(f"layout: {part}'s weight permuted, not the activations: {'; '.join(moved)}")
        em.gen.helpers.add("_linear_permuted")
        code = f"_linear_permuted({code}, lambda _w: {weight}, {ref}.weight{'' if bias is None else ', bias=' + bias})"
    if n_out > 1:
        sizes = ", ".join(em.size(attrs.outputs.sizes[i])[0] for i in rows)
        code = f"{code}.unflatten(-1, ({sizes}))"
    return code


def _box_call(em: Emitter, node: ir.Call, args: list[str]) -> str:
    em.gen.helpers.update({"_apply_box", "_check_shape"})
    in_shapes = []
    for arg, layout in zip(node.arguments, node.layouts):
        assert isinstance(arg.type, TensorType)
        axes = [arg.type.axes[i] for i in layout.own]
        in_shapes.append(_shape_tuple(em, axes))
    out_shapes = []
    for out, declared in zip(ir.types_of(node.type), node.signature.outputs):
        start = len(node.before) + node.lead
        out_shapes.append(_shape_tuple(em, out.axes[start: start + declared.rank], unknown_ok=True))
    name = node.callee
    return (f'_apply_box({em.box_ref(name)}, "{safe_text(name)}", ({", ".join(args)}{"," if len(args) == 1 else ""}), '
            f'({", ".join(in_shapes)}{"," if len(in_shapes) == 1 else ""}), '
            f'({", ".join(out_shapes)}{"," if len(out_shapes) == 1 else ""}))')


def _shape_tuple(em: Emitter, axes, unknown_ok: bool = False) -> str:
    items = []
    for axis in axes:
        if unknown_ok and not axis.size.symbols() <= em.names.keys():
            items.append("None")
        else:
            items.append(em.size(axis.size)[0])
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _part_ref(em: Emitter, node: ir.Call) -> str:
    """The module's learned part a call applies (`self.Lq`, `self.blocks[i]`)."""
    assert node.part is not None
    ref = f"self.{python_name(node.part)}"
    return ref if node.position is None else f"{ref}[{em.size(node.position)[0]}]"


def _component_call(em: Emitter, node: ir.Call, arranged: list[Arranged]) -> str:
    component: ir.Component = node.target
    ref = _part_ref(em, node)
    if isinstance(component, ir.Layer) and component.op == "Embedding" and isinstance(node.arguments[0], ir.Arange):
        return f"{ref}({arranged[0].code})"  # positions: the checker made their range a precondition on sizes
    if isinstance(component, ir.Layer) and component.op == "Embedding":  # ids out of range are the spec's error
        em.gen.helpers.add("_token_ids")
        where = safe_text(f"{em.gen.where(node.span)} `{node.part}`")
        return f'{ref}(_token_ids({arranged[0].code}, {ref}.num_embeddings, "{where}"))'
    if isinstance(component, ir.Layer) and component.op == "Linear":
        return _linear(em, node, ref, arranged[0])
    args = [a.code for a in arranged]
    if _needs_fixed_rank(component):
        em.gen.helpers.add("_over_batch")
        rank = node.signature.inputs[0].rank
        if isinstance(component, ir.Layer) and isinstance(component.attrs, (PoolAttrs, AdaptivePoolAttrs)):
            rank += 1  # pooling takes (N, C, *spatial): the channel axis rides along
        if isinstance(component, ir.Repeat):
            em.gen.helpers.add("_in_turn")
            return f"_over_batch(lambda x: _in_turn({ref}, x), {args[0]}, {rank})"
        return f"_over_batch({ref}, {args[0]}, {rank})"
    if isinstance(component, ir.Repeat):
        em.gen.helpers.add("_in_turn")
        return f"_in_turn({ref}, {', '.join(args)})"
    return f"{ref}({', '.join(args)})"
