"""The appendix's Tracker: run a generated model and print, for every part, the sizes that go in
and out beside the axes the spec declared for it, so code can be checked against the diagram.

    with ncdc.Tracker(model, "specs/unet.ncd"):
        model(x)

Parts are followed by forward hooks, except the Linear parts that the generated code applies
through their weights (`nn.functional.linear` with the weight's rows or columns permuted, where the
layout plan put the copy on the weight): those are recognised by their weight, as it is used.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import ir


class Tracker:
    def __init__(self, model, spec, out=None):
        """`spec` is the spec's path or its checked `ir.Program`; `model` a module generated from it."""
        if not isinstance(spec, ir.Program):
            from .api import check_file

            spec = check_file(Path(spec))
        self.model = model
        self.out = out or sys.stdout
        self.declared = _declared_parts(spec, type(model).__name__)
        self.handles = []
        self.mode = None

    def __enter__(self):
        weights = {}
        for name, module in self.model.named_modules():
            declared = _lookup(self.declared, name)
            if declared is not None:
                self.handles.append(module.register_forward_hook(self._hook(name, module, declared)))
                if module._get_name() == "Linear":
                    weights[id(module.weight)] = self._hook(name, module, declared)
        self.mode = _linear_weights(weights)
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
        if self.mode is not None:
            self.mode.__exit__(*exc)
            self.mode = None
        return False

    def _hook(self, name: str, module, declared: str):
        def report(_, inputs, output):
            sizes_in = ", ".join(_sizes(t) for t in inputs)
            sizes_out = ", ".join(_sizes(t) for t in (output if isinstance(output, tuple) else (output,)))
            print(f"{name} ({module._get_name()}): {sizes_in} -> {sizes_out}    spec: {declared}",
                  file=self.out)
        return report


def _linear_weights(weights: dict):
    """A torch function mode that reports `nn.functional.linear` calls whose weight is computed from
    a tracked Linear's by reshapes and permutations (the layout plan's permuted weights); a Linear
    called as a module is reported by its hook instead."""
    import torch
    from torch.overrides import TorchFunctionMode

    reshapes = {torch.Tensor.unflatten, torch.Tensor.flatten, torch.Tensor.movedim, torch.Tensor.permute,
                torch.Tensor.transpose, torch.Tensor.reshape, torch.Tensor.view, torch.Tensor.t}

    class LinearWeights(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.made: dict[int, tuple] = {}  # id(tensor made from a weight) -> (tensor, its part's report)

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func is torch.nn.functional.linear and len(args) > 1 and id(args[1]) in self.made:
                self.made[id(args[1])][1](None, (args[0],), out)
            elif func in reshapes and args:
                report = weights.get(id(args[0])) or self.made.get(id(args[0]), (None, None))[1]
                if report is not None:
                    self.made[id(out)] = (out, report)  # kept alive while tracked: its id is not reused
            return out

    return LinearWeights()


def _sizes(tensor) -> str:
    return " ".join(map(str, tensor.shape)) if hasattr(tensor, "shape") else type(tensor).__name__


def _lookup(declared: dict[str, str], name: str) -> str | None:
    """The declared type of the part at `name`; a `*` in a declared path stands for any index of a
    repetition whose count is only known when the model is built (`layers.*.norm1`)."""
    if name in declared:
        return declared[name]
    for path, text in declared.items():
        if "*" in path and re.fullmatch(re.escape(path).replace(r"\*", r"\d+"), name):
            return text
    return None


def _declared_parts(program: ir.Program, model_class: str) -> dict[str, str]:
    """Each part's path in the generated module tree (as named_modules names it) -> its declared type.

    The parts of a repetition over a hyperparameter range (`[Block(...) for i in 1..N]`) are not
    known one by one: its body stands for every index, under the path `NAME.*`."""
    modules = {m.name: m for m in program.modules}
    found: dict[str, str] = {}

    def signature_text(component: ir.Component) -> str | None:
        sig = component.signature
        return ir.signature_text(sig.inputs, sig.outputs) if sig is not None else None

    def visit(component: ir.Component, path: str) -> None:
        text = signature_text(component)
        if text is not None:
            found[path] = text
        if isinstance(component, ir.Instance):
            visit_module(modules[component.module], path + ".")
        elif isinstance(component, ir.Seq):
            for i, part in enumerate(component.parts):
                visit(part, f"{path}.{i}")
        elif isinstance(component, ir.Repeat) and component.instances is not None:
            for i, part in enumerate(component.instances):
                visit(part, f"{path}.{i}")
        elif isinstance(component, ir.Repeat) and component.body is not None:
            visit(component.body, f"{path}.*")

    def visit_module(module: ir.Module, prefix: str) -> None:
        for component in module.components():
            visit(component, prefix + component.name)

    if model_class in modules:
        visit_module(modules[model_class], "")
    return found
