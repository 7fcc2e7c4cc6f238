"""A type-directed generator of random well-typed `.ncd` specs, for the soundness property test.

`generate(seed)` returns a `Generated`: the spec text and, for every def and module, the parameter
and result types it believes the checker will infer, as Python size expressions over the spec's
size names, so a test can build inputs of the declared shapes and check the outputs' shapes without
trusting the checker.

The generator keeps the type of every wire in scope (its axes: a name, the spec text, a size
expression, the parts of a bound axis; and its element type) and only emits operations that the
language reference (docs/language.src.md) says are well typed on them:

- defs with generic sizes and spec constants; int and bool parameters;
- elementwise maps, arithmetic with numbers and sizes, and wires broadcast by names;
- softmax / log_softmax and reductions over named axes, and over every axis;
- einsum contractions, outer products and transposes; rearrange with binding `(a b)` and unbinding;
  flatten; concat (also of int and bool wires); indexes and slices;
- lifting a helper def over extra axes, `F[c](X)`, on either side of its axes;
- modules with hyperparameters: Linear, LayerNorm, RMSNorm, Dropout, Conv1d / Conv2d with stride and
  padding, MaxPool2d, AvgPool2d, BatchNorm2d, Parameter, seq, submodules, repetitions over fixed and
  hyperparameter ranges (called whole and by index, in a `for` loop).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

GENERIC = ["a", "b", "c", "d", "e"]
CONSTANTS = {"K": 3, "P": 2}


@dataclass(frozen=True)
class Ax:
    text: str  # as written in a type
    size: str  # a Python expression over size names
    name: str | None = None  # how brackets refer to it (None: an expression axis)
    parts: tuple[str, ...] = ()  # a bound axis: the names of its parts


def sym(name: str) -> Ax:
    return Ax(name, name, name)


def group(names: list[str]) -> Ax:
    text = "(" + " ".join(names) + ")"
    return Ax(text, "*".join(f"({n})" for n in names), text, tuple(names))


def expr(text: str, size: str) -> Ax:
    return Ax(f"({text})", size)


@dataclass
class Wire:
    name: str
    axes: list[Ax]
    dtype: str = "float"

    def type_text(self) -> str:
        prefix = "" if self.dtype == "float" else self.dtype + " "
        if not self.axes:
            return "()" if self.dtype == "float" else self.dtype
        return prefix + " ".join(a.text for a in self.axes)

    def names(self) -> list[str | None]:
        return [a.name for a in self.axes]

    def plain(self) -> bool:
        """Every axis a size name, once: einsum and friends can refer to each."""
        names = self.names()
        return all(a.name is not None and not a.parts for a in self.axes) and len(set(names)) == len(names)


@dataclass
class Signature:
    name: str
    params: list[Wire]
    results: list[Wire]
    module: bool = False
    hparams: dict[str, int] = field(default_factory=dict)  # the defaults, which the test builds with
    minimum: dict[str, int] = field(default_factory=dict)  # least value of a generic size that makes sense


@dataclass
class Generated:
    seed: int
    text: str
    signatures: list[Signature]
    constants: dict[str, int]


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.seed = seed
        self.out: list[str] = []
        self.signatures: list[Signature] = []
        self.helpers: list[tuple[str, int, str]] = []  # (name, rank of its parameter, kind)
        self.count = 0

    # ---- helpers -------------------------------------------------------------------------------

    def fresh(self) -> str:
        self.count += 1
        return f"W{self.count}"

    def pick(self, seq):
        return self.r.choice(list(seq))

    # ---- top level -----------------------------------------------------------------------------

    def spec(self) -> Generated:
        r = self.r
        self.out.append("size " + ", ".join(f"{k} = {v}" for k, v in CONSTANTS.items()) + "\n")
        self.helper_defs()
        for i in range(r.randint(1, 3)):
            self.random_def(f"f{i}")
        if r.random() < 0.5:
            self.element_def("elems")
        for kind in r.sample(["dense", "conv1d", "conv2d", "tower"], r.randint(1, 3)):
            getattr(self, f"module_{kind}")()
        return Generated(self.seed, "\n".join(self.out), self.signatures, dict(CONSTANTS))

    def helper_defs(self) -> None:
        self.out.append("def act(X: p) -> p:\n    return relu(X) * 2 - X / 3\n")
        self.out.append("def total(X: p) -> ():\n    return sum[p](X)\n")
        self.out.append("def swap(X: p q) -> q p:\n    return rearrange[q p](X)\n")
        self.out.append("def norm(X: p q) -> p q:\n    return softmax[q](X) * sqrt(p)\n")
        self.helpers = [("act", 1, "same"), ("total", 1, "drop"), ("swap", 2, "swap"), ("norm", 2, "same")]

    # ---- defs ----------------------------------------------------------------------------------

    def random_type(self, rank: int, names: list[str]) -> list[Ax]:
        chosen = self.r.sample(names, rank)
        return [sym(n) for n in chosen]

    def random_def(self, name: str) -> None:
        r = self.r
        pool = r.sample(GENERIC, r.randint(2, 4)) + (["K"] if r.random() < 0.4 else [])
        params = []
        for i in range(r.randint(1, 3)):
            rank = r.randint(1, min(3, len(pool)))
            params.append(Wire(f"X{i}", self.random_type(rank, pool)))
        scope = list(params)
        body: list[str] = []
        for _ in range(r.randint(2, 7)):
            stmt = self.statement(scope)
            if stmt is not None:
                line, wire = stmt
                body.append(f"    {wire.name} = {line}")
                scope.append(wire)
        candidates = scope[len(params):] or scope
        results = r.sample(candidates, min(len(candidates), r.randint(1, 2)))
        self.emit_def(name, params, results, body)

    def emit_def(self, name: str, params: list[Wire], results: list[Wire], body: list[str],
                 indent: str = "") -> None:
        header = f"{indent}def {name}(" + ", ".join(f"{p.name}: {p.type_text()}" for p in params) + ") -> " \
            + ", ".join(w.type_text() for w in results) + ":"
        lines = [header, *(indent + line for line in body), f"{indent}    return " + ", ".join(w.name for w in results)]
        self.out.append("\n".join(lines) + "\n")
        if not indent:
            self.signatures.append(Signature(name, params, results))

    def statement(self, scope: list[Wire]) -> tuple[str, Wire] | None:
        r = self.r
        floats = [w for w in scope if w.dtype == "float"]
        ranked = [w for w in floats if w.axes]
        w = self.pick(ranked[-3:] if ranked and r.random() < 0.7 else floats)
        ops = ["map", "arith", "softmax", "reduce", "rearrange", "index", "lift", "broadcast", "einsum",
               "concat", "flatten", "unbind", "slice", "reduce_all"]
        for _ in range(8):
            op = self.pick(ops)
            made = getattr(self, f"op_{op}")(w, floats)
            if made is not None:
                line, axes = made
                return line, Wire(self.fresh(), axes)
        return None

    # each op: (expression text, result axes) or None when it does not apply

    def op_map(self, w, _):
        f = self.pick(["relu", "tanh", "sigmoid", "gelu", "silu", "sin", "cos", "abs"])
        return f"{f}({w.name})", list(w.axes)

    def op_arith(self, w, _):
        form = self.pick(["{x} * 0.5 + 1", "-{x} / 2", "{x} * {x} - {x}", "{x} ** 2 / (1 + {s})", "exp(-{x})",
                          "sqrt({x} + 1) * log(2.0)"])
        sizes = [a.name for a in w.axes if a.name and not a.parts] or ["1"]
        return form.format(x=w.name, s=self.pick(sizes)), list(w.axes)

    def named_axes(self, w) -> list[Ax]:
        names = w.names()
        return [a for a in w.axes if a.name is not None and names.count(a.name) == 1]

    def op_softmax(self, w, _):
        axes = self.named_axes(w)
        if not axes:
            return None
        f = self.pick(["softmax", "log_softmax"])
        return f"{f}[{self.pick(axes).name}]({w.name})", list(w.axes)

    def op_reduce(self, w, _):
        axes = self.named_axes(w)
        if not axes:
            return None
        chosen = self.r.sample(axes, self.r.randint(1, len(axes)))
        f = self.pick(["sum", "mean", "max", "min", "logsumexp"])
        return f"{f}[{' '.join(a.name for a in chosen)}]({w.name})", [a for a in w.axes if a not in chosen]

    def op_reduce_all(self, w, _):
        if not w.axes:
            return None
        return f"{self.pick(['sum', 'mean', 'max'])}({w.name})", []

    def op_rearrange(self, w, _):
        if not w.plain() or len(w.axes) < 2:
            return None
        axes = list(w.axes)
        self.r.shuffle(axes)
        if self.r.random() < 0.5:  # bind two adjacent axes
            i = self.r.randrange(len(axes) - 1)
            axes[i:i + 2] = [group([axes[i].name, axes[i + 1].name])]
        if [a.text for a in axes] == [a.text for a in w.axes]:
            return None
        return f"rearrange[{' '.join(a.text for a in axes)}]({w.name})", axes

    def op_unbind(self, w, _):
        out: list[Ax] = []
        changed = False
        for a in w.axes:
            if a.parts:
                out.extend(sym(p) for p in a.parts)
                changed = True
            else:
                out.append(a)
        names = [a.name for a in out]
        if not changed or None in names or len(set(names)) != len(names):
            return None
        return f"rearrange[{' '.join(a.text for a in out)}]({w.name})", out

    def op_flatten(self, w, _):
        if not w.plain() or len(w.axes) < 2:
            return None
        return f"flatten({w.name})", [group([a.name for a in w.axes])]

    def op_index(self, w, _):
        if not w.axes:
            return None
        first = w.axes[0]
        item = self.pick(["0", f"{first.text} - 1"] if first.name else ["0"])
        return f"{w.name}[{item}]", w.axes[1:]

    def op_slice(self, w, _):
        if not w.axes or w.axes[0].name is None or w.axes[0].parts:
            return None
        first = w.axes[0]
        form = self.pick(["1:", ":1", "0:1"])
        axis = expr(f"{first.name} - 1", f"{first.name} - 1") if form == "1:" else Ax("1", "1")
        return f"{w.name}[{form}]", [axis, *w.axes[1:]]

    def op_lift(self, w, _):
        if not w.plain() or not w.axes:
            return None
        name, rank, kind = self.pick(self.helpers)
        if len(w.axes) <= rank:
            if len(w.axes) == rank and self.r.random() < 0.5:
                return f"{name}({w.name})", self.helper_result(kind, list(w.axes))
            return None
        # the callee's axes: `rank` adjacent axes; the others are lifted
        start = self.r.randrange(len(w.axes) - rank + 1)
        inner = w.axes[start:start + rank]
        lifted = w.axes[:start] + w.axes[start + rank:]
        order = list(lifted)
        self.r.shuffle(order)
        before = [a for a in order if a in w.axes[:start]]
        after = [a for a in order if a in w.axes[start + rank:]]
        return (f"{name}[{' '.join(a.name for a in order)}]({w.name})",
                before + self.helper_result(kind, inner) + after)

    @staticmethod
    def helper_result(kind: str, inner: list[Ax]) -> list[Ax]:
        return {"same": inner, "drop": [], "swap": inner[::-1]}[kind]

    def op_broadcast(self, w, floats):
        """X + Y where Y's axes are names that occur once each in X, in any order."""
        axes = self.named_axes(w)
        others = [v for v in floats if v is not w and 0 < len(v.axes) <= len(w.axes)]
        for v in self.r.sample(others, len(others)):
            names = [a.name for a in v.axes]
            if None in names or len(set(names)) != len(names):
                continue
            if len(v.axes) == len(w.axes):
                if [a.text for a in v.axes] == [a.text for a in w.axes]:
                    return f"{w.name} {self.pick('+-*')} {v.name}", list(w.axes)
                continue
            if all(any(a.name == n and a.size == b.size for a in axes) for n, b in zip(names, v.axes)):
                return f"{w.name} {self.pick('+-*')} {v.name}", list(w.axes)
        return None

    def op_einsum(self, w, floats):
        if not w.plain():
            return None
        others = [v for v in floats if v.plain() and v.axes]
        v = self.pick(others)
        if v is w and self.r.random() < 0.5:  # one operand: transpose or trace-free contraction
            names = [a for a in w.axes]
            keep = self.r.sample(names, self.r.randint(1, len(names)))
            return f"einsum[{' '.join(a.name for a in keep)}]({w.name})", keep
        union: dict[str, Ax] = {}
        for a in [*w.axes, *v.axes]:
            union.setdefault(a.name, a)
        pool = list(union.values())
        keep = self.r.sample(pool, self.r.randint(1, min(4, len(pool))))
        if v is w:
            return None
        # an output that binds two adjacent kept names
        axes = list(keep)
        if len(axes) >= 2 and self.r.random() < 0.3:
            i = self.r.randrange(len(axes) - 1)
            axes[i:i + 2] = [group([axes[i].name, axes[i + 1].name])]
        return f"einsum[{' '.join(a.text for a in axes)}]({w.name}, {v.name})", axes

    def op_concat(self, w, _):
        axes = self.named_axes(w)
        if not axes:
            return None
        a = self.pick(axes)
        out = [expr(f"2 * {a.text}", f"2 * ({a.size})") if x is a else x for x in w.axes]
        return f"concat[{a.name}]({w.name}, {w.name})", out

    # ---- element types -------------------------------------------------------------------------

    def element_def(self, name: str) -> None:
        T = Wire("T", [sym("a"), sym("b")], "int")
        M = Wire("M", [sym("b"), sym("a")], "bool")
        X = Wire("X", [sym("a"), sym("b")])
        body = [
            "    T1 = rearrange[b a](T)",
            "    T2 = concat[b](T1, T1)" if self.r.random() < 0.5 else "    T2 = concat[a](T1: b a, T1: b a)",
            "    S = sum[a](T)",
            "    M1 = concat[b](M, M)",
            "    F = X * (T * 3 + 1) / 4 + S",
            "    I = T[0]",
        ]
        concat_a = "concat[a]" in body[1]
        t2 = [sym("b"), expr("2 * a", "2 * (a)")] if concat_a else [expr("2 * b", "2 * (b)"), sym("a")]
        results = [Wire("T2", t2, "int"), Wire("S", [sym("b")], "int"),
                   Wire("M1", [expr("2 * b", "2 * (b)"), sym("a")], "bool"), Wire("F", [sym("a"), sym("b")]),
                   Wire("I", [sym("b")], "int")]
        self.emit_def(name, [T, M, X], results, body)

    # ---- modules -------------------------------------------------------------------------------

    def module_dense(self) -> None:
        r = self.r
        m, h = r.choice([3, 4, 6]), r.choice([2, 5, 8])
        norm = self.pick(["LayerNorm", "RMSNorm"])
        bias = self.pick(["", "bias=false"])
        lines = [f"module Dense(m={m}, h={h}):",
                 f"    up = Linear[m -> h]({bias})",
                 "    down = Linear[h -> m]()",
                 f"    norm = {norm}[m]()",
                 f"    drop = Dropout({r.choice(['0.1', '0.5', ''])})",
                 "    pair = Linear[m -> 2 h]()",
                 "    scale = Parameter[m]()",
                 "    mix = seq(Linear[m -> h](), LayerNorm[h](), Linear[h -> m]())",
                 "",
                 "    def forward(X: t m) -> t m, t 2 h, m:",
                 "        Y = X + down(gelu(up(norm(X))))",
                 "        Y = drop(Y) * scale + mix(Y)",
                 "        return Y, pair(Y), sum[t](Y)"]
        self.out.append("\n".join(lines) + "\n")
        self.signatures.append(Signature("Dense", [Wire("X", [sym("t"), sym("m")])],
                                         [Wire("", [sym("t"), sym("m")]),
                                          Wire("", [sym("t"), Ax("2", "2"), sym("h")]),
                                          Wire("", [sym("m")])], True, {"m": m, "h": h}))

    def module_conv1d(self) -> None:
        r = self.r
        c, d = r.choice([2, 3]), r.choice([4, 5])
        k, s, p = r.choice([1, 3, 5]), r.choice([1, 2, 3]), r.choice([0, 1, 2])
        out = f"(L + 2 * {p} - {k}) // {s} + 1"
        lines = [f"module Conv1(c={c}, d={d}):",
                 f"    conv = Conv1d[c -> d]({k}, stride={s}, padding={p})",
                 "    same = Conv1d[d -> d](3, padding=\"same\")",
                 "",
                 f"    def forward(X: c L) -> d ({out}):",
                 "        return same(relu(conv(X)))"]
        self.out.append("\n".join(lines) + "\n")
        self.signatures.append(Signature("Conv1", [Wire("X", [sym("c"), sym("L")])],
                                         [Wire("", [sym("d"), expr(out, out)])], True, {"c": c, "d": d},
                                         {"L": max(k - 2 * p, 1)}))

    def module_conv2d(self) -> None:
        r = self.r
        c, d = r.choice([1, 3]), r.choice([2, 4])
        k, s, p = r.choice([1, 2, 3]), r.choice([1, 2]), r.choice([0, 1])
        pool = self.pick(["MaxPool2d", "AvgPool2d"])
        side = "((H + 2 * {p} - {k}) // {s} + 1) // 2"
        hh = side.format(p=p, k=k, s=s)
        ww = hh.replace("H", "W")
        lines = [f"module Conv2(c={c}, d={d}):",
                 f"    conv = Conv2d[c -> d]({k}, stride={s}, padding={p})",
                 "    bn = BatchNorm2d[d]()",
                 f"    pool = {pool}(2)",
                 "",
                 f"    def forward(X: c H W) -> d ({hh}) ({ww}):",
                 "        return pool(relu(bn(conv(X))))"]
        self.out.append("\n".join(lines) + "\n")
        least = max(2 * s + k - 2 * p, 2)
        self.signatures.append(Signature("Conv2", [Wire("X", [sym("c"), sym("H"), sym("W")])],
                                         [Wire("", [sym("d"), expr(hh, hh), expr(ww, ww)])], True,
                                         {"c": c, "d": d}, {"H": least, "W": least}))

    def module_tower(self) -> None:
        r = self.r
        c, n = r.choice([2, 4]), r.choice([1, 2, 3])
        lines = ["module Block(c):",
                 "    lin = Linear[c -> c]()",
                 "    norm = LayerNorm[c]()",
                 "",
                 "    def forward(X: t c) -> t c:",
                 "        return X + relu(lin(norm(X)))",
                 "",
                 f"module Tower(c={c}, N={n}):",
                 "    blocks = [Block(c) for i in 1..N]",
                 "    fixed = [Block(c) for i in 0..2]",
                 "    layers = [Linear[c -> c]() for i in 1..3]",
                 "",
                 "    def forward(X: t c) -> t c, c t:",
                 "        X = blocks(X)",
                 "        for j in 1..2:",
                 "            X = fixed[j](X)",
                 "        Y = layers(fixed[0](X))",
                 "        return Y, rearrange[c t](Y)"]
        self.out.append("\n".join(lines) + "\n")
        self.signatures.append(Signature("Tower", [Wire("X", [sym("t"), sym("c")])],
                                         [Wire("", [sym("t"), sym("c")]), Wire("", [sym("c"), sym("t")])], True,
                                         {"c": c, "N": n}))


def generate(seed: int) -> Generated:
    return Gen(seed).spec()
