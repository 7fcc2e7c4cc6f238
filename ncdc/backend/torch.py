"""The PyTorch back end: typed IR to plain `torch` source, through the Jinja templates in templates/.

Each IR node kind has one lowering (the `LOWERINGS` registry) that returns a Python expression and
its precedence; each learned part kind has one constructor lowering (`CONSTRUCTORS`) and one call
lowering (`call_component`).  Layout (permutes, reshapes, inserted axes) is decided here from the
static axis order of every wire: axis names never reach run time.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

import jinja2

from .. import __version__, ir
from ..ir import TensorType
from ..names import GENERATED_GLOBALS, Namespace, python_name
from ..sizes import Size, Symbol, product
from ..resources import data_dir
from .fuse import fuse_attention
from .sizes import ADD, ATOM, MUL, POWER, UNARY, size_code, wrap

LINE_LENGTH = 110  # longer lists of parts are written one part a line
STUB_SIZE = 8  # a stub's output sizes that its inputs do not fix
HELPER_NAMES = ("_check_rank", "_check_shape", "_apply_box", "_over_batch", "_in_turn", "_insert_axis", "_cat")
FIXED_RANK = {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
              "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
              "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
              "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm"}


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


def generate(program: ir.Program, *, stubs: bool = False) -> str:
    return Generator(program, stubs).source()


class Generator:
    def __init__(self, program: ir.Program, stubs: bool):
        self.program = program
        self.stubs = stubs
        self.source_name = safe_text(program.path)
        self.short_name = safe_text(os.path.basename(program.path))
        self.helpers: set[str] = set()
        self.uses_math = False
        self.uses_callable = False
        self.constants = {c.symbol: python_name(c.name) for c in program.constants}
        self.top_names = {python_name(n) for n in program.order} | set(self.constants.values())
        self.top_frozen = frozenset(self.top_names)  # shared by the namespaces of every function
        self.reserved = frozenset(GENERATED_GLOBALS | self.top_names | set(HELPER_NAMES))
        self.boxes = {b.name: b for b in program.boxes}
        self.functions = {f.name: f for f in program.functions}
        self.modules = {m.name: m for m in program.modules}

    def where(self, span) -> str:
        if span is None:
            return ""
        lines = str(span.line) if span.end_line == span.line else f"{span.line}-{span.end_line}"
        return f"[{self.short_name}:{lines}]"

    def source(self) -> str:
        definitions = []
        for name in self.program.order:
            if name in self.functions:
                definitions.append(self.function(self.functions[name]))
            elif name in self.modules:
                definitions.append(self.module(self.modules[name]))
        stub_code = [self.stub(b) for b in self.program.boxes] if self.stubs else []
        if any(f.boxes for f in [*self.program.functions, *self.program.modules]):
            self.uses_callable = True
        macros = _env().get_template("helpers.py.j2").module
        helpers = [getattr(macros, name[1:])().strip() for name in HELPER_NAMES if name in self.helpers]
        return _render("module.py.j2", version=__version__, source=self.source_name, uses_math=self.uses_math,
                       uses_callable=self.uses_callable, helpers=helpers, stubs=stub_code,
                       definitions=definitions,
                       constants=[(python_name(c.name), c.value.constant) for c in self.program.constants]) + "\n"

    def bind_sizes(self, wires, generics, names: dict, ns: Namespace, only_new: bool = False) -> list[str]:
        """Read generic sizes off the shapes of wires: `y, k = Q.shape[-2:]`, `h = X.shape[-1] // 16`."""
        wanted = [g for g in generics if g not in names]
        if only_new:  # sizes that only a box's output fixes are read where they first appear
            wanted += [a.size.atom for _, t in wires for a in t.axes
                       if isinstance(a.size.atom, Symbol) and a.size.atom not in names and a.size.atom not in wanted]
        sources = ir.size_sources([t for _, t in wires], wanted, set(names))
        lines = []
        run: list[ir.SizeSource] = []

        def flush():
            if not run:
                return
            wire, t = wires[run[0].wire]
            targets = []
            for source in run:
                names[source.symbol] = ns(source.symbol.name)
                targets.append(names[source.symbol])
            first, last = run[0].axis - t.rank, run[-1].axis - t.rank
            if len(run) == 1:
                lines.append(f"{targets[0]} = {wire}.shape[{first}]")
            else:
                lines.append(f"{', '.join(targets)} = {wire}.shape[{first}:{'' if last == -1 else last + 1}]")
            run.clear()

        for source in sources:
            if source.divisor is not None:
                flush()
                wire, t = wires[source.wire]
                divisor = size_code(source.divisor, names.__getitem__)
                names[source.symbol] = ns(source.symbol.name)
                lines.append(f"{names[source.symbol]} = {wire}.shape[{source.axis - t.rank}] // "
                             f"{wrap(*divisor, MUL + 1)}")
                continue
            if run and (run[-1].wire != source.wire or run[-1].axis != source.axis - 1):
                flush()
            run.append(source)
        flush()
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
                       returns=_returns(len(f.results)), doc=safe_text(doc), body=body)

    def module(self, m: ir.Module) -> str:
        hparams = []
        for hp in m.hparams:
            hparams.append(f"{python_name(hp.name)}: int" + (f" = {hp.default}" if hp.default is not None else ""))
        ctor = ["self", *hparams, *self.box_parameters(m.boxes)]
        init_names: dict[Symbol, str] = dict(self.constants)
        init_names.update({hp.symbol: python_name(hp.name) for hp in m.hparams})
        init = []
        if m.hparams:
            names = [python_name(hp.name) for hp in m.hparams]
            init.append(", ".join(f"self.{n}" for n in names) + " = " + ", ".join(names))
        for b in m.boxes:
            init.append(f"self.{python_name(b)} = {python_name(b)}")
        for member in m.members:
            if isinstance(member, ir.SizeMember):
                name = python_name(member.name)
                code, _ = size_code(member.value, init_names.__getitem__)
                init.append(f"self.{name} = {name} = {code}")
                init_names[member.symbol] = name
            else:
                code = self.constructor(member, init_names, m)
                line = f"self.{python_name(member.name)} = {code}  # {self.where(member.span)}"
                if len(line) > LINE_LENGTH and code.startswith(("nn.Sequential(", "nn.ModuleList([")):
                    line = _one_part_a_line(member, code, self.where(member.span))
                init.append(line)
        emitter = Emitter(self, m.forward, m)
        body = emitter.body()
        params = ["self"] + [f"{emitter.ns(p.name)}: Tensor" for p in m.forward.params]
        signature = ir.signature_text(m.forward.inputs, m.forward.outputs)
        args = ", ".join(hp.name for hp in m.hparams)
        doc = f"{m.name}({args}) : {signature}    {self.where(m.header)}"
        return _render("class.py.j2", name=python_name(m.name), doc=safe_text(doc), ctor_params=", ".join(ctor),
                       init=init or ["pass"], params=", ".join(params), returns=_returns(len(m.forward.results)),
                       forward_doc=safe_text(f"forward : {signature}    {self.where(m.forward.header)}"), body=body)

    # ---- learned parts: constructors ----------------------------------------------------------

    def constructor(self, c: ir.Component, names: dict, m: ir.Module, in_seq: bool = False) -> str:
        def size(s: Size) -> str:
            return size_code(s, names.__getitem__)[0]

        a = c.attrs
        kind = c.kind
        if kind == "Linear":
            n_in = product(a["in"].sizes)
            n_out = product(a["out"].sizes)
            return f"nn.Linear({size(n_in)}, {size(n_out)}" + ("" if a["bias"] else ", bias=False") + ")"
        if kind.startswith(("Conv", "ConvTranspose")):
            options = [size(a["in"]), size(a["out"]), size(a["kernel"])]
            defaults = {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1}
            for key in ("stride", "padding", "output_padding", "groups", "dilation"):
                if key not in a:
                    continue
                value = a[key]
                if value == "same":
                    options.append('padding="same"')
                elif value != Size.of(defaults[key]):
                    options.append(f"{key}={size(value)}")
            if not a["bias"]:
                options.append("bias=False")
            return f"nn.{kind}({', '.join(options)})"
        if kind.startswith(("MaxPool", "AvgPool")):
            options = [size(a["kernel"])]
            if a["stride"] != a["kernel"]:
                options.append(f"stride={size(a['stride'])}")
            if a["padding"] != Size.of(0):
                options.append(f"padding={size(a['padding'])}")
            return f"nn.{kind}({', '.join(options)})"
        if kind.startswith("AdaptiveAvgPool"):
            return f"nn.{kind}({size(a['output'])})"
        if kind.startswith("BatchNorm"):
            options = [size(a["n"])] + _float_options(a, {"eps": 1e-5, "momentum": 0.1})
            return f"nn.{kind}({', '.join(options)})"
        if kind == "LayerNorm":
            sizes = [size(s) for s in a["axes"].sizes]
            shape = sizes[0] if len(sizes) == 1 else f"({', '.join(sizes)})"
            return f"nn.LayerNorm({', '.join([shape] + _float_options(a, {'eps': 1e-5}))})"
        if kind == "GroupNorm":
            return f"nn.GroupNorm({', '.join([size(a['groups']), size(a['n'])] + _float_options(a, {'eps': 1e-5}))})"
        if kind == "Dropout":
            return f"nn.Dropout({a['p']!r})"
        if kind == "Parameter":
            shape = ", ".join(size(s) for s in a["type"].sizes)
            scale = "" if a["std"] == 1.0 else f" * {a['std']!r}"
            return f"nn.Parameter(torch.randn({shape}){scale})"
        if kind == "module":
            target = self.modules[a["module"]]
            args = [size(s) for s in a["args"]]
            args += [f"{python_name(b)}={python_name(b)}" for b in target.boxes]
            return f"{python_name(target.name)}({', '.join(args)})"
        if kind == "seq":
            return "nn.Sequential(" + ", ".join(self.constructor(p, names, m, in_seq=True) for p in a["parts"]) + ")"
        if kind == "repeat":
            # Inside `seq` the repetitions are applied by nn.Sequential itself; elsewhere they are a
            # ModuleList that `forward` applies in turn or indexes.
            def repeated(body: str, index: str, bounds: str) -> str:
                loop = f"{body} for {index} in range({bounds})"
                return f"nn.Sequential(*({loop}))" if in_seq else f"nn.ModuleList({loop})"

            if a["instances"] is not None:
                codes = [self.constructor(i, names, m) for i in a["instances"]]
                if len(set(codes)) == 1:
                    return repeated(codes[0], "_", str(len(codes)))
                return f"nn.Sequential({', '.join(codes)})" if in_seq else f"nn.ModuleList([{', '.join(codes)}])"
            index = Namespace(names.values(), base=self.top_frozen)(a["index"].name)
            inner = dict(names)
            inner[a["index"]] = index
            body = self.constructor(a["body"], inner, m)
            if not re.search(rf"\b{re.escape(index)}\b", body):
                index = "_"
            return repeated(body, index, f"{size(a['start'])}, {size(a['stop'] + 1)}")
        raise AssertionError(f"no constructor lowering for {kind}")


def _one_part_a_line(member: ir.Component, code: str, where: str) -> str:
    """A long list of parts, one part a line (continuation lines indented for the __init__ body)."""
    opening = "nn.Sequential(" if code.startswith("nn.Sequential(") else "nn.ModuleList(["
    closing = ")" if opening == "nn.Sequential(" else "])"
    parts = _split_top_level(code[len(opening):-len(closing)])
    inner = "".join(f"\n{' ' * 12}{part}," for part in parts)
    return f"self.{python_name(member.name)} = {opening}  # {where}{inner}\n{' ' * 8}{closing}"


def _split_top_level(text: str) -> list[str]:
    """Split `a(b, c), d` at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _float_options(attrs: dict, defaults: dict) -> list[str]:
    out = []
    for key, default in defaults.items():
        value = attrs.get(key, default)
        if isinstance(value, Size):
            value = value.constant
        if value != default:
            out.append(f"{key}={value!r}")
    return out


def _returns(count: int) -> str:
    return "Tensor" if count == 1 else f"tuple[{', '.join(['Tensor'] * count)}]"


def _needs_fixed_rank(c: ir.Component) -> bool:
    if c.kind in FIXED_RANK:
        return True
    if c.kind == "seq":
        return any(_needs_fixed_rank(p) for p in c.attrs["parts"])
    if c.kind == "repeat":
        return _needs_fixed_rank(c.attrs["body"])
    return False


# ---- bodies -------------------------------------------------------------------------------------

LOWERINGS = {}


def lowering(kind):
    def register(fn):
        LOWERINGS[kind] = fn
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
            return self.names[symbol]
        return size_code(s, name_of)

    def box_ref(self, name: str) -> str:
        return f"self.{python_name(name)}" if self.module is not None else python_name(name)

    def body(self) -> list[str]:
        """Read the generic sizes off the inputs, check the inputs' shapes, then the statements."""
        params = [(self.ns(p.name), p.type) for p in self.f.params]
        types = [t for _, t in params]
        sources = ir.size_sources(types, [g for g in self.f.generics if g not in self.names], set(self.names))
        read = {(s.wire, s.axis) for s in sources if s.divisor is None}
        lines = []
        ranks = [(w, name, t) for w, (name, t) in enumerate(params) if any(s.wire == w for s in sources)]
        if ranks:  # before sizes are read, so that a missing axis is reported as such
            self.gen.helpers.add("_check_rank")
            lines.append("if CHECK_SHAPES:")
            lines += [f'    _check_rank("{safe_text(self.f.params[w].name)}", {name}, {t.rank}, "{safe_text(str(t))}")'
                      for w, name, t in ranks]
        lines += self.gen.bind_sizes(params, self.f.generics, self.names, self.ns)
        checks = []
        for w, ((name, t), p) in enumerate(zip(params, self.f.params)):
            if all((w, i) in read for i in range(t.rank)):
                continue  # every size was just read off this input
            shape = ", ".join(self.size(a.size)[0] for a in t.axes)
            shape = f"({shape}{',' if len(t.axes) == 1 else ''})"
            checks.append(f'_check_shape("{safe_text(p.name)}", {name}, {shape}, "{safe_text(str(t))}")')
        if checks:
            self.gen.helpers.add("_check_shape")
            lines.append("if CHECK_SHAPES:")
            lines.extend("    " + c for c in checks)
        lines.extend(self.block(fuse_attention(self.f.body)))
        return lines

    def block(self, stmts) -> list[str]:
        lines = []
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                code, _ = self.expr(stmt.value)
                targets = ", ".join(self.ns(t) for t in stmt.targets)
                types = ", ".join(str(t) for t in stmt.types)
                lines.append(f"{targets} = {code}  # {safe_text(types)}  {self.gen.where(stmt.span)}")
                bound = [(self.ns(t), ty) for t, ty in zip(stmt.targets, stmt.types) if isinstance(ty, TensorType)]
                lines.extend(self.gen.bind_sizes(bound, self.f.generics, self.names, self.ns, only_new=True))
            elif isinstance(stmt, ir.Return):
                codes = [self.expr(v)[0] for v in stmt.values]
                types = ", ".join(str(t) for v in stmt.values
                                  for t in (v.type if isinstance(v.type, tuple) else (v.type,)))
                lines.append(f"return {', '.join(codes)}  # {safe_text(types)}  {self.gen.where(stmt.span)}")
            else:
                index = self.ns(stmt.var.name)
                self.names[stmt.var] = index
                lines.append(f"for {index} in range({self.size(stmt.start)[0]}, {self.size(stmt.stop + 1)[0]}):"
                             f"  # {self.gen.where(stmt.span)}")
                lines.extend("    " + line for line in self.block(stmt.body))
        return lines

    def expr(self, node: ir.Node) -> tuple[str, int]:
        return LOWERINGS[node.kind](self, node)

    def operand(self, node: ir.Node, needed: int) -> str:
        code, prec = self.expr(node)
        return wrap(code, prec, needed)




# ---- lowerings of expressions -------------------------------------------------------------------


@lowering("wire")
def _wire(em: Emitter, node):
    return em.ns(node.attrs["name"]), ATOM


@lowering("parameter")
def _parameter(em: Emitter, node):
    return f"self.{python_name(node.attrs['name'])}", ATOM


@lowering("const")
def _const(em: Emitter, node):
    return repr(node.attrs["value"]), ATOM


@lowering("size")
def _size(em: Emitter, node):
    return em.size(node.attrs["size"])


@lowering("neg")
def _neg(em: Emitter, node):
    return f"-{em.operand(node.args[0], UNARY)}", UNARY


_BINARY = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "//": MUL, "**": POWER}


def _binary_code(em: Emitter, op: str, left: str, lprec: int, right: str, rprec: int):
    prec = _BINARY[op]
    if op == "**":  # right-associative
        return f"{wrap(left, lprec, prec + 1)} ** {wrap(right, rprec, prec)}", prec
    return f"{wrap(left, lprec, prec)} {op} {wrap(right, rprec, prec + 1)}", prec


@lowering("scalar_binary")
def _scalar_binary(em: Emitter, node):
    (l, lp), (r, rp) = em.expr(node.args[0]), em.expr(node.args[1])
    return _binary_code(em, node.attrs["op"], l, lp, r, rp)


@lowering("binary")
def _binary(em: Emitter, node):
    codes = []
    align = node.attrs["align"] or [None, None]
    for arg, positions in zip(node.args, align):
        code, prec = em.expr(arg)
        if positions is not None:
            code, prec = _aligned(code, prec, positions, node.type.rank), ATOM
        codes.append((code, prec))
    return _binary_code(em, node.attrs["op"], *codes[0], *codes[1])


def _aligned(code: str, prec: int, align: dict, rank: int) -> str:
    """A wire whose axes sit at `positions` of a result of `rank` axes, reshaped to broadcast: its
    own batch axes must line up with the result's, so the result's other axes are inserted."""
    positions = align["positions"]
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    code = wrap(code, prec, ATOM)
    if order != list(range(len(positions))):
        code = _permute(code, list(range(len(positions))), order)
    present = set(positions)
    if present == set(range(rank)):
        return code  # the same axes, now in the same order
    if align["unbatched"] and sorted(positions) == list(range(rank - len(positions), rank)):
        return code  # trailing axes in order, no batch axes: PyTorch broadcasting lines them up
    first = 0 if not align["unbatched"] else min(positions, default=rank)
    index = ", ".join(":" if r in present else "None" for r in range(first, rank))
    return f"{code}[..., {index}]"


def _permute(code: str, current: list, target: list) -> str:
    """Move the trailing axes of `code` from order `current` to order `target` (same items)."""
    n = len(current)
    for item in current:  # one axis moving reads best as one movedim
        rest = [c for c in current if c != item]
        t_index = target.index(item)
        if rest[:t_index] + [item] + rest[t_index:] == target and current.index(item) != t_index:
            return f"{code}.movedim({current.index(item) - n}, {t_index - n})"
    src, dst = [], []
    for t_index, item in enumerate(target):
        c_index = current.index(item)
        if c_index != t_index:
            src.append(c_index - n)
            dst.append(t_index - n)
    if not src:
        return code
    if len(src) == 1:
        return f"{code}.movedim({src[0]}, {dst[0]})"
    return f"{code}.movedim({tuple(src)}, {tuple(dst)})"


@lowering("scalar_fn")
def _scalar_fn(em: Emitter, node):
    from ..builtins import SCALAR_FUNCTIONS
    fn = SCALAR_FUNCTIONS[node.attrs["fn"]]
    if fn.startswith("math."):
        em.gen.uses_math = True
    return f"{fn}({em.expr(node.args[0])[0]})", ATOM


@lowering("elementwise")
def _elementwise(em: Emitter, node):
    from ..builtins import ELEMENTWISE
    return f"{ELEMENTWISE[node.attrs['fn']]}({em.expr(node.args[0])[0]})", ATOM


@lowering("normalise")
def _normalise(em: Emitter, node):
    from ..builtins import NORMALISERS
    dim = node.attrs["dim"] - node.type.rank
    return f"{NORMALISERS[node.attrs['fn']]}({em.expr(node.args[0])[0]}, dim={dim})", ATOM


@lowering("reduce")
def _reduce(em: Emitter, node):
    from ..builtins import REDUCTIONS
    rank = node.attrs["rank"]
    dims = [d - rank for d in node.attrs["dims"]]
    code = em.operand(node.args[0], ATOM)
    if not dims:  # nothing to reduce (a wire with no axes)
        return code, ATOM
    method = REDUCTIONS[node.attrs["fn"]]
    if method == "prod" and len(dims) > 1:  # torch.prod reduces one axis at a time
        for d in sorted(dims):  # most negative first: the axes to its right keep their index
            code = f"{code}.prod(dim={d})"
        return code, ATOM
    dim = str(dims[0]) if len(dims) == 1 else f"({', '.join(map(str, dims))})"
    return f"{code}.{method}(dim={dim})", ATOM


@lowering("flatten")
def _flatten(em: Emitter, node):
    return f"{em.operand(node.args[0], ATOM)}.flatten({-node.attrs['count']})", ATOM


@lowering("concat")
def _concat(em: Emitter, node):
    dim = node.attrs["dim"] - node.attrs["rank"]
    args = ", ".join(em.expr(a)[0] for a in node.args)
    if node.attrs.get("broadcast"):  # some parts (learned tensors) have no batch axes
        em.gen.helpers.add("_cat")
        return f"_cat(({args}), dim={dim}, rank={node.attrs['rank']})", ATOM
    return f"torch.cat(({args}), dim={dim})", ATOM


@lowering("eye")
def _eye(em: Emitter, node):
    like = em.ns(em.f.params[0].name) if em.f.params else None
    options = f", dtype={like}.dtype, device={like}.device" if like else ""
    return f"torch.eye({em.size(node.attrs['size'])[0]}{options})", ATOM


@lowering("attention")
def _attention(em: Emitter, node):
    """Scaled dot-product attention in PyTorch's fused kernel (which wants contiguous heads)."""
    q, k, v = (f"{em.operand(a, ATOM)}.contiguous()" for a in node.args)
    scale = node.attrs["scale"]
    option = ""
    if scale is not None:
        op, factor = scale
        if factor is None:
            option = ", scale=1.0"
        else:
            code, prec = em.expr(factor)
            option = f", scale=1 / {wrap(code, prec, MUL + 1)}" if op == "/" else f", scale={code}"
    return f"nn.functional.scaled_dot_product_attention({q}, {k}, {v}{option})", ATOM


@lowering("index")
def _index(em: Emitter, node):
    items = []
    for item in node.attrs["items"]:
        if item[0] == "all":
            items.append(":")
        elif item[0] == "index":
            items.append(em.size(item[1])[0])
        else:
            start, stop = em.size(item[1])[0], em.size(item[2])[0]
            items.append(f"{'' if start == '0' else start}:{stop}")
    return f"{em.operand(node.args[0], ATOM)}[..., {', '.join(items)}]", ATOM


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


def _split_groups(code: str, labels: list, em: Emitter, sizes: dict) -> tuple[str, list]:
    """Unbind `(k h)` axes of an input: `X.unflatten(-1, (k, h))`."""
    flat = []
    rank = len(labels)
    for i, label in enumerate(labels):
        if isinstance(label, tuple):
            parts = ", ".join(em.size(sizes[p])[0] for p in label)
            code = f"{code}.unflatten({i - rank}, ({parts}))"
            flat.extend(label)
        else:
            flat.append(label)
    return code, flat


@lowering("einsum")
def _einsum(em: Emitter, node):
    sizes = node.attrs["sizes"]
    operands, specs = [], []
    all_labels = []
    for arg, labels in zip(node.args, node.attrs["inputs"]):
        code, flat = _split_groups(em.operand(arg, ATOM), labels, em, sizes)
        operands.append(code)
        specs.append(flat)
        all_labels.extend(flat)
    out = node.attrs["output"]
    out_flat = [p for l in out for p in (l if isinstance(l, tuple) else [l])]
    letters = _letters(all_labels + out_flat)
    equation = ",".join("..." + "".join(letters[l] for l in spec) for spec in specs)
    equation += "->..." + "".join(letters[l] for l in out_flat)
    code = f'torch.einsum("{equation}", {", ".join(operands)})'
    return _merge_groups(code, out), ATOM


def _merge_groups(code: str, out: list) -> str:
    """Bind `(k h)` axes of an output: `.flatten(-2)` over each group, last group first."""
    flat_rank = sum(len(l) if isinstance(l, tuple) else 1 for l in out)
    position = flat_rank
    for label in reversed(out):
        width = len(label) if isinstance(label, tuple) else 1
        position -= width
        if width > 1:
            start, end = position - flat_rank, position + width - 1 - flat_rank
            code = f"{code}.flatten({start})" if end == -1 else f"{code}.flatten({start}, {end})"
    return code


@lowering("rearrange")
def _rearrange(em: Emitter, node):
    sizes = node.attrs["sizes"]
    code, flat = _split_groups(em.operand(node.args[0], ATOM), node.attrs["inputs"][0], em, sizes)
    out = node.attrs["output"]
    out_flat = [p for l in out for p in (l if isinstance(l, tuple) else [l])]
    code = _permute(code, flat, out_flat)
    return _merge_groups(code, out), ATOM


# ---- calls ----------------------------------------------------------------------------------------


@lowering("call")
def _call(em: Emitter, node):
    a = node.attrs
    args = []
    for arg, layout in zip(node.args, a["layouts"]):
        args.append(_arrange(em, arg, layout, a))
    kind = a["callee_kind"]
    if kind == "def":
        target: ir.Function = a["target"]
        boxes = [f"{python_name(b)}={em.box_ref(b)}" for b in target.boxes]
        code = f"{python_name(target.name)}({', '.join(args + boxes)})"
    elif kind == "box":
        code = _box_call(em, node, args)
    else:
        code = _component_call(em, node, args)
    return _restore(code, node), ATOM


def _arrange(em: Emitter, arg: ir.Node, layout: dict, a: dict) -> str:
    """Put an argument's lifted axes (and extra leading axes) before the axes the callee acts on."""
    code = em.operand(arg, ATOM)
    positions = layout["lifted"]
    target = [positions.get(l, ("new", l)) for l in a["before"]] + list(layout["lead"]) + \
             [positions.get(l, ("new", l)) for l in a["after"]] + list(layout["own"])
    existing = [t for t in target if not isinstance(t, tuple)]
    code = _permute(code, list(range(layout["rank"])), existing)
    total = len(target)
    for index in reversed(range(total)):
        item = target[index]
        if isinstance(item, tuple):
            size = em.size(a["lift_sizes"][item[1]])[0]
            em.gen.helpers.add("_insert_axis")
            code = f"_insert_axis({code}, {index - total}, {size})"
    return code


def _restore(code: str, node: ir.Node) -> str:
    """Move lifted axes that sat after the callee's axes back there."""
    after = node.attrs["after"]
    if not after:
        return code
    out_rank = node.type.rank - len(node.attrs["before"]) - node.attrs["lead"] - len(after)
    n = len(after)
    src = tuple(range(-(out_rank + n), -out_rank))
    dst = tuple(range(-n, 0))
    if n == 1:
        return f"{code}.movedim({src[0]}, {dst[0]})"
    return f"{code}.movedim({src}, {dst})"


def _box_call(em: Emitter, node: ir.Node, args: list[str]) -> str:
    em.gen.helpers.update({"_apply_box", "_check_shape"})
    a = node.attrs
    sig = a["signature"]
    in_shapes = []
    for arg, layout in zip(node.args, a["layouts"]):
        axes = [arg.type.axes[i] for i in layout["own"]]
        in_shapes.append(_shape_tuple(em, axes))
    outs = node.type if isinstance(node.type, tuple) else (node.type,)
    out_shapes = []
    for out, declared in zip(outs, sig.outputs):
        start = len(a["before"])
        axes = out.axes[start + a["lead"]: start + a["lead"] + declared.rank]
        out_shapes.append(_shape_tuple(em, axes, unknown_ok=True))
    name = a["callee"]
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


def _component_call(em: Emitter, node: ir.Node, args: list[str]) -> str:
    component: ir.Component = node.attrs["signature"].target
    ref = f"self.{python_name(node.attrs['part'])}"
    if "index" in node.attrs:
        ref += f"[{em.size(node.attrs['index'])[0]}]"
    kind = component.kind
    if kind == "Linear":
        n_in, n_out = component.attrs["in"].rank, component.attrs["out"].rank
        x = args[0]
        if n_in > 1:
            x = f"{x}.flatten({-n_in})"
        code = f"{ref}({x})"
        if n_out > 1:
            sizes = ", ".join(em.size(s)[0] for s in component.attrs["out"].sizes)
            code = f"{code}.unflatten(-1, ({sizes}))"
        return code
    if _needs_fixed_rank(component):
        em.gen.helpers.add("_over_batch")
        rank = node.attrs["signature"].inputs[0].rank
        if kind.startswith(("MaxPool", "AvgPool", "AdaptiveAvgPool")):
            rank += 1  # pooling takes (N, C, *spatial): the channel axis rides along
        if kind == "repeat":
            em.gen.helpers.add("_in_turn")
            return f"_over_batch(lambda x: _in_turn({ref}, x), {args[0]}, {rank})"
        return f"_over_batch({ref}, {args[0]}, {rank})"
    if kind == "repeat":
        em.gen.helpers.add("_in_turn")
        return f"_in_turn({ref}, {args[0]})"
    return f"{ref}({', '.join(args)})"
