"""Write docs/compat.md: what each shipped model does under each of PyTorch's ways to run a model.

    python docs/compat.py            # a few minutes: every def and module of specs/, ONNX included
    python docs/compat.py gpt2.ncd resnet.ncd:Block   # those rows only, the others kept as they are

Each cell is measured, not claimed: eager; torch.compile(fullgraph=True) (no graph break); torch.export
with the example's sizes and with `ncdc.export.dynamic_shapes`, run on new sizes; ONNX through the
dynamo exporter with those dynamic shapes, run by onnxruntime on new sizes; ONNX through the
TorchScript-based exporter (`dynamo=False`, with `ncdc.export.legacy_onnx_symbolics`), run by
onnxruntime on the example; torch.jit.trace (its
TracerWarnings); torch.save/torch.load of a model from `ncdc.load`.  Numbers compare with eager
PyTorch (maximum absolute difference); a spec with abstract boxes runs random stubs, so only shapes
are compared there.  tests/test_export.py checks that the table covers every shipped model.
"""

from __future__ import annotations

import io
import re
import sys
import tempfile
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ncdc  # noqa: E402
from ncdc import export, ir  # noqa: E402
from ncdc.runner import HYPERPARAMETER, RUN_LIMIT, parameter_count  # noqa: E402

# The TorchScript-based ONNX exporter ends the process (a segmentation fault in its einsum translation)
# on an einsum whose `...` stand for different numbers of axes: an unbatched eye beside a batched input.
LEGACY_ONNX_CRASHES = {"F_linear_transpose": "not run: the exporter crashes (its einsum of `...` of different ranks)"}
COLUMNS = ["eager", "compile", "export", "export (dynamic)", "ONNX (dynamic)", "ONNX (legacy)", "jit.trace",
           "torch.save"]


def _outputs(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _compare(got, want, shapes_only: bool) -> str:
    got, want = _outputs(got), _outputs(want)
    if [tuple(g.shape) for g in got] != [tuple(w.shape) for w in want]:
        return "wrong shape"
    if shapes_only:
        return "ok (shapes)"
    # NaN where masks drop a whole row (a causal mask beside padding) is the same in both
    error = max(float((torch.as_tensor(g).double() - w.double()).nan_to_num().abs().max()) if w.numel() else 0.0
                for g, w in zip(got, want))
    if any(not torch.equal(torch.as_tensor(g).isnan(), w.isnan()) for g, w in zip(got, want)):
        return "NaN elsewhere"
    return "ok" if error <= 1e-4 else f"differs by {error:.1e}"


def _why(error: Exception) -> str:
    """The error in a line: the root cause of the ONNX exporter's long reports."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    if "## Exception summary" in message:
        message = message.split("## Exception summary", 1)[1].strip()
        message = message.split(">: ", 1)[-1]
    text = f"{type(error).__name__}: {message.splitlines()[0] if message else ''}"
    return text[:90].replace("|", "/")


def measure(spec: Path, item) -> dict[str, str]:
    program = ncdc.check_file(spec)
    name = item.name
    module = ncdc.load(spec, stubs=True)
    hparams = {h.name: HYPERPARAMETER for h in getattr(item, "hparams", []) if h.default is None}
    made = getattr(module, name)
    if isinstance(item, ir.Module) and parameter_count(made, hparams) > RUN_LIMIT:  # a published size: too large here
        hparams = {h.name: HYPERPARAMETER for h in item.hparams if h.kind == "size"}
    model = made(**hparams).eval() if isinstance(item, ir.Module) else export.as_module(made)
    shapes_only = bool(item.boxes)
    torch.manual_seed(0)
    inputs = export.example_inputs(program, name, hparams)
    new = export.example_inputs(program, name, hparams, batch=5, offset=3)
    cells: dict[str, str] = {}

    def cell(column, run):
        try:
            with warnings.catch_warnings(), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                cells[column] = run()
        except Exception as error:  # the table says what failed
            cells[column] = _why(error)

    with torch.no_grad():
        want, want_new = model(*inputs), model(*new)
    cells["eager"] = "ok"

    def compiled():
        torch._dynamo.reset()
        with torch.no_grad():
            return _compare(torch.compile(model, fullgraph=True, backend="eager")(*inputs), want, shapes_only)

    def static():
        return _compare(torch.export.export(model, inputs).module()(*inputs), want, shapes_only)

    dynamic = export.dynamic_shapes(program, name, hparams)
    dynamic = dynamic if isinstance(item, ir.Module) else (dynamic,)

    def exported():
        return _compare(torch.export.export(model, inputs, dynamic_shapes=dynamic).module()(*new), want_new,
                        shapes_only)

    def onnx():
        import onnxruntime

        program_ = torch.onnx.export(model, inputs, dynamo=True, dynamic_shapes=dynamic,
                                     custom_translation_table=export.onnx_translations())
        session = onnxruntime.InferenceSession(program_.model_proto.SerializeToString(),
                                               providers=["CPUExecutionProvider"])
        feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), new)}
        return _compare(tuple(torch.from_numpy(o) for o in session.run(None, feed)), want_new, shapes_only)

    def legacy_onnx():
        import onnxruntime

        if item.name in LEGACY_ONNX_CRASHES:  # not run: it would end this script
            return LEGACY_ONNX_CRASHES[item.name]
        file = io.BytesIO()
        with export.legacy_onnx_symbolics():
            torch.onnx.export(model, inputs, file, dynamo=False)
        session = onnxruntime.InferenceSession(file.getvalue(), providers=["CPUExecutionProvider"])
        feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)}
        return _compare(tuple(torch.from_numpy(o) for o in session.run(None, feed)), want, shapes_only)

    def trace():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            traced = torch.jit.trace(model, inputs, check_trace=False)
        tracer = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
        result = _compare(traced(*inputs), want, shapes_only)
        if not tracer:
            return result
        kinds = sorted({"a size as a number" if "Python float" in str(w.message) else "a precondition's test"
                        for w in tracer})
        return f"{result}, {len(tracer)} TracerWarnings ({', '.join(kinds)})"

    def save():
        if isinstance(item, ir.Function):
            return "n/a (a def)"
        with tempfile.TemporaryFile() as file:
            torch.save(model, file)
            file.seek(0)
            loaded = torch.load(file, weights_only=False)
        with torch.no_grad():
            return _compare(loaded(*inputs), want, shapes_only)

    for column, run in zip(COLUMNS[1:], [compiled, static, exported, onnx, legacy_onnx, trace, save]):
        cell(column, run)
    return cells


def models() -> list[tuple[Path, object]]:
    found = []
    for spec in sorted((ROOT / "specs").glob("*.ncd")):
        program = ncdc.check_file(spec)
        items = {m.name: m for m in [*program.modules, *program.functions]}
        found += [(spec, items[n]) for n in program.order if n in items]
    return found


HEADER = """# Where generated models go

Generated by `python docs/compat.py` (it measures every cell; tests/test_export.py checks a sample
of them in CI).  Every def and module of `specs/`, built with its default sizes (hyperparameters
without one: {hp}; every size hyperparameter {hp} for a model whose defaults exceed {limit:,}
parameters, as `ncdc run` and the tests do), on random inputs; columns as in the script's
docstring.  `ok` means the same numbers as eager PyTorch (within 1e-4), `ok (shapes)` a spec with
abstract boxes, run with random stubs.

TorchScript (`torch.jit.script`) is not supported: the generated code is plain modern Python that
TorchScript's subset rejects (module-level `CHECK_SHAPES`, f-string messages, tuple unpacking of
shapes, helpers that take a submodule as an argument), and TorchScript is deprecated in PyTorch 2.
Use torch.export (above, with `ncdc.export.dynamic_shapes`) for a serialised graph, torch.compile for
speed, or torch.jit.trace, under which the shape checks stand aside.

Notes, and what does not pass, and why:

- ONNX goes through `ncdc.export.onnx_translations()` (pass it as `custom_translation_table`): the
  exporter's own translations take fused attention only on 4-D query, key and value (generated code
  calls it on the spec's axes: 3-D for `ScaledDotProductAttention` with a batch), and onnxruntime's
  Einsum rejects `...` that stand for different numbers of axes (`outer_unit`'s unbatched `eye`
  beside a batched input), which torch broadcasts.  The translations apply at export only.
- Fused attention over a row of scores that the mask drops at every key (Vaswani's decoder: query 0
  sees only key 0, which padding drops) gives that row 0 in torch (`scaled_dot_product_attention`
  treats a wholly masked row so, since torch 2.5), where ONNX's `Softmax` of -inf everywhere is
  0/0, NaN.  Both exporters' translations write such rows as 0: `onnx_translations` for dynamo, and
  `ncdc.export.legacy_onnx_symbolics()` (a context manager) for the TorchScript-based exporter,
  whose own translation guards a bool mask's rows but not a float mask's (torch.nn's masks, and
  the spec's: -inf added to the scores).  Reproduction without ncdc: `F.scaled_dot_product_attention(q,
  k, v, attn_mask=m)` with `m` a float mask of -inf across one row, exported with `dynamo=False`
  and run by onnxruntime: NaN in that row, 0 in torch.
- ONNX (legacy), the TorchScript-based exporter (`dynamo=False`, deprecated since torch 2.9), with
  `ncdc.export.legacy_onnx_symbolics()`, whose attention also takes grouped heads (`enable_gqa`),
  which the exporter's own translation rejects: besides the boxes under torch.vmap and the routing
  (as for jit.trace), an einsum whose `...` stand for different numbers of axes either crashes it
  (`F_linear_transpose`, not run) or becomes an Einsum that onnxruntime rejects (`outer_unit`).
  Generated code permutes axes by `transpose` only: the exporter wrote a `movedim` of negative dims
  as a Transpose with a negative `perm`, which onnxruntime rejects.
- A wrong input under torch.compile, `fullgraph=True` included, raises the shape check's message
  (as an AssertionError: dynamo lets no other exception type leave compiled code).
- ONNX of `MixtralExperts` and `MixtralSparseMoeBlock`: neither exporter translates the routing's
  stable sort. torch.compile (fullgraph) and torch.export keep its data-dependent number of tokens
  per expert as unbacked sizes (Hugging Face's Mixtral block fails fullgraph there).
- jit.trace of a def with abstract boxes: the boxes run under torch.vmap, which tracing does not support.
- torch.export with dynamic shapes where a length is bounded from above (`t <= n_positions`, a
  positional table of `max_len` rows): `ncdc.export.dynamic_shapes` gives the Dim that maximum (and
  a least value likewise), from the preconditions of the model's own forward (GPT2Model) and of the
  defs and parts it calls, carried up through each call's sizes and each part's hyperparameters
  (LlamaModel's and DeepseekV3SelfAttention's rotary tables, Vaswani's positional encoding).
- ONNX of masks that `where` selects by (`keep_padded`, and the models that call it): onnxruntime
  has no Where of bool operands. ONNX (legacy) has no translation of `aten::rms_norm` (Llama and
  DeepSeek-V3 layers; the dynamo exporter has one).
- Inputs: floats in [0, 1), token ids 0 and 1, masks that keep every other position
  (`ncdc.export.example_inputs`); NaN where masks drop a whole row (a spec's own softmax, unfused)
  counts as equal where eager has it too.
- TracerWarnings that remain: a precondition checked at each call (`needs H >= 2`) compares a traced
  size, and `sqrt(k)` turns a traced size into a Python number; a trace fixes both to the example's sizes.

"""


def _kept_rows(path: Path) -> dict[tuple[str, str], str]:
    """The rows of the table as docs/compat.md has them now, by (spec, model)."""
    if not path.exists():
        return {}
    rows = [line for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| spec ")]
    return {tuple(c.strip() for c in row.split("|")[1:3]): row for row in rows}  # type: ignore[misc]


def main(only: list[str]) -> None:
    """Measure every model, or only those named (`Vaswani`, `transformer.ncd:Vaswani`, or every one
    of a spec: `transformer.ncd`), keeping the other rows as docs/compat.md has them."""
    path = ROOT / "docs" / "compat.md"
    kept = _kept_rows(path) if only else {}
    names = lambda spec, item: (item.name, spec.name, f"{spec.name}:{item.name}")  # noqa: E731
    chosen = lambda spec, item: not only or any(n in only for n in names(spec, item))  # noqa: E731
    found = models()
    unknown = [n for n in only if not any(n in names(s, i) for s, i in found)]
    if unknown:
        sys.exit(f"docs/compat.py: no def or module {', '.join(unknown)} in specs/")
    rows = []
    for spec, item in found:
        if not chosen(spec, item) and (spec.name, item.name) in kept:
            rows.append(kept[(spec.name, item.name)])
            continue
        cells = measure(spec, item)
        rows.append(f"| {spec.name} | {item.name} | " + " | ".join(cells[c] for c in COLUMNS) + " |")
        print(rows[-1], flush=True)
    table = ["| spec | model | " + " | ".join(COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 2)] + rows
    header = HEADER.format(hp=HYPERPARAMETER, limit=RUN_LIMIT)
    path.write_text(header + "\n".join(table) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
