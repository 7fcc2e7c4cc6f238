"""Names from the spec in generated Python: legal, never shadowing what the generated code uses.

Local wire names are renamed quietly (a keyword gets a trailing `_`); names that are part of the
generated API (definitions, hyperparameters, learned parts) are kept as written, so a clash there is
an error in the spec (E0102) rather than a silent rename.
"""

from __future__ import annotations

import builtins
import keyword

# What generated code itself refers to at module level.
GENERATED_GLOBALS = frozenset({
    "torch", "nn", "math", "operator", "Tensor", "Callable", "annotations", "CHECK_SHAPES",
})

# Attributes every nn.Module already has (torch 2.x): a hyperparameter or learned part with one of
# these names would overwrite it.  Kept as data so that `ncdc check` need not import torch.
MODULE_ATTRIBUTES = frozenset({
    'T_destination',
    'add_module',
    'apply',
    'bfloat16',
    'buffers',
    'call_super_init',
    'children',
    'compile',
    'cpu',
    'cuda',
    'double',
    'dump_patches',
    'eval',
    'extra_repr',
    'float',
    'forward',
    'get_buffer',
    'get_extra_state',
    'get_parameter',
    'get_submodule',
    'half',
    'ipu',
    'load_state_dict',
    'modules',
    'mtia',
    'named_buffers',
    'named_children',
    'named_modules',
    'named_parameters',
    'parameters',
    'register_backward_hook',
    'register_buffer',
    'register_forward_hook',
    'register_forward_pre_hook',
    'register_full_backward_hook',
    'register_full_backward_pre_hook',
    'register_load_state_dict_post_hook',
    'register_load_state_dict_pre_hook',
    'register_module',
    'register_parameter',
    'register_state_dict_post_hook',
    'register_state_dict_pre_hook',
    'requires_grad_',
    'set_extra_state',
    'set_submodule',
    'share_memory',
    'state_dict',
    'to',
    'to_empty',
    'train',
    'training',
    'type',
    'xpu',
    'zero_grad',
    "self",
})

PYTHON_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"None", "True", "False"}

# Python's builtins: generated code and its helpers call some of them, so names that live where
# they would hide one (module level, constructor arguments) may not take them.
PYTHON_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))


def python_name(name: str) -> str:
    """The identifier Python will see: it folds names to NFKC, so `ﬁ` and `fi` are the same name."""
    if name.isascii():  # NFKC leaves ASCII as it is; unicodedata's import was 1.6 ms of `ncdc check`
        return name
    import unicodedata

    return unicodedata.normalize("NFKC", name)


def reserved_reason(name: str, *, module_attribute: bool = False, shadows_builtin: bool = False) -> str | None:
    """Why `name` cannot be used as written in generated code, or None."""
    folded = python_name(name)
    if not folded.isidentifier():
        return "it is not a valid Python identifier"
    if folded in PYTHON_KEYWORDS:
        return "it is a Python keyword"
    if folded.startswith("_"):
        return "names starting with `_` are reserved for generated code"
    if folded in GENERATED_GLOBALS:
        return "the generated module uses this name itself"
    if module_attribute and folded in MODULE_ATTRIBUTES:
        return "every `nn.Module` already has an attribute of this name"
    if shadows_builtin and folded in PYTHON_BUILTINS:
        return f"it would hide Python's builtin `{folded}`"
    return None


class Namespace:
    """Legal, unique local identifiers for a set of spec names (cf. torch.fx's namespace)."""

    def __init__(self, taken=(), base: frozenset[str] = frozenset()):
        """`taken` is copied; `base`, names taken in every namespace of a module (its definitions),
        is shared, not copied: a namespace per function costs what the function holds, not the module."""
        self._used = set(taken)
        self._base = base
        self._names: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name in self._names:
            return self._names[name]
        base = python_name(name)
        if not base.isidentifier():
            base = "v_" + "".join(c if (c.isalnum() or c == "_") else "_" for c in base)
        if base in PYTHON_KEYWORDS or base.startswith("__"):
            base += "_"
        candidate, n = base, 1
        while candidate in self._used or candidate in self._base or candidate in PYTHON_BUILTINS:
            n += 1
            candidate = f"{base}_{n}"
        self._used.add(candidate)
        self._names[name] = candidate
        return candidate
